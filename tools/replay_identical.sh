#!/usr/bin/env bash
# Is `snuffer replay`'s output byte-identical between two builds, on every shared curve?
#
#   tools/replay_identical.sh record SNUFFER OUT_DIR [CURVES_DIR]   # write one build's outputs
#   tools/replay_identical.sh check  SNUFFER BASELINE_DIR [CURVES_DIR]  # record, then diff -r
#   tools/replay_identical.sh compare SNUFFER_A SNUFFER_B [CURVES_DIR]  # record both, then diff -r
#
# CURVES_DIR defaults to ../shared/data/curves (every `*.csv` in it whose header has `step`
# and `metric`, LCDB included). What is recorded, at tau_n 0.1 and 0.3:
#   * as ../shared/tools/policy_eval.py prepares them (its `curves.py`): each task's runs in one
#     file, energy normalised so the task's median full run costs 1 kWh at 1000 W, and
#     tau = tau_n x the task's median improvement. Each task file is replayed with
#     `--policy marginal --tau T --power-w 1000` as text, as `--json`, and with `--sweep --json`
#     (policy_eval's single and sweep modes);
#   * each source file whole with `--tau-relative tau_n` (text and `--json`), with
#     `--tau-sweep` (text), and `--policy patience` (text).
# Output is independent of the thread count (results come back in file order); stderr is
# kept too, and so is every exit status. Needs python3 (standard library only).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
usage() { sed -n '2,7p' "$0" >&2; exit 2; }

record() { # SNUFFER OUT CURVES
    local bin="$1" out="$2" curves="$3"
    [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
    [ -d "$curves" ] || { echo "no curves directory: $curves (give CURVES_DIR)" >&2; exit 2; }
    mkdir -p "$out/tasks" "$out/files"
    local tools="${SHARED_TOOLS:-$here/../shared/tools}"
    [ -f "$tools/curves.py" ] || { echo "no $tools/curves.py (set SHARED_TOOLS)" >&2; exit 2; }
    local prep
    prep="$(mktemp -d)"
    # One file per task as policy_eval.py writes it, and a manifest: file, task, scale.
    python3 - "$tools" "$curves" "$prep" <<'EOF'
import sys, os, csv, pathlib
sys.path.insert(0, sys.argv[1])
from curves import read_rows, build_runs, task_scales
rows = []
for f in sorted(pathlib.Path(sys.argv[2]).glob("*.csv")):
    rr = read_rows(f)
    if rr and "step" in rr[0] and "metric" in rr[0]:
        rows += rr
runs = build_runs(rows)
scales = task_scales(runs)
tasks = {}
for k, r in runs.items():
    tasks.setdefault(r["task"], []).append(k)
cols = ["source", "task", "run_id", "step", "metric", "metric_name", "higher_is_better", "epoch_time_s"]
with open(os.path.join(sys.argv[3], "manifest"), "w") as man:
    for i, (t, keys) in enumerate(tasks.items()):
        fn = os.path.join(sys.argv[3], "task%02d.csv" % i)
        with open(fn, "w", newline="") as out:
            w = csv.DictWriter(out, fieldnames=cols)
            w.writeheader()
            for k in keys:
                r = runs[k]; prev = 0.0
                for row, e in zip(r["rows"], r["E"]):
                    d = {c: row.get(c, "") for c in cols}
                    d["epoch_time_s"] = "%.9g" % ((e - prev) / scales[t][1] * 3600.0)
                    prev = e
                    w.writerow(d)
        man.write("%s\t%s\t%.17g\n" % (os.path.basename(fn), t, scales[t][0]))
EOF
    cp "$prep/manifest" "$out/tasks/manifest"
    run_one() {
        local o="$1"; shift
        local rc=0
        "$bin" "$@" >"$o" 2>"$o.err" || rc=$?
        echo "$rc" >"$o.rc"
    }
    local tn name task scale tau base
    for tn in 0.1 0.3; do
        while IFS=$'\t' read -r name task scale; do
            tau="$(python3 -c "print('%.9g' % ($tn * $scale))")"
            base="$out/tasks/${name%.csv}-tn$tn"
            local args=(replay --curves "$prep/$name" --policy marginal --tau "$tau" --power-w 1000)
            run_one "$base.txt" "${args[@]}"
            run_one "$base.json" "${args[@]}" --json
            run_one "$base.sweep.json" "${args[@]}" --json --sweep
        done <"$prep/manifest"
        local f src
        for f in "$curves"/*.csv; do
            head -1 "$f" | grep -q 'step' && head -1 "$f" | grep -q 'metric' || continue
            head -1 "$f" | grep -q 'n_points' && continue # a runs table, not curves
            src="$(basename "$f" .csv)"
            base="$out/files/$src-tn$tn"
            run_one "$base.txt" replay --curves "$f" --policy marginal --tau-relative "$tn" --tau 1
            run_one "$base.json" replay --curves "$f" --policy marginal --tau-relative "$tn" --tau 1 --json
        done
    done
    for f in "$curves"/*.csv; do
        head -1 "$f" | grep -q 'step' && head -1 "$f" | grep -q 'metric' || continue
        head -1 "$f" | grep -q 'n_points' && continue
        src="$(basename "$f" .csv)"
        run_one "$out/files/$src-tausweep.txt" replay --curves "$f" --policy marginal --tau-sweep 0.01,0.1,1
        run_one "$out/files/$src-patience.txt" replay --curves "$f" --policy patience --patience 3 --tau 0.1
    done
    rm -rf "$prep"
}

[ $# -ge 3 ] || usage
mode="$1"
curves="${4:-$here/../shared/data/curves}"
case "$mode" in
record)
    record "$2" "$3" "$curves"
    echo "recorded $(find "$3" -type f | wc -l) files in $3"
    ;;
check)
    tmp="$(mktemp -d)"
    record "$2" "$tmp" "$curves"
    if diff -r "$3" "$tmp" >/dev/null; then
        echo "byte-identical: $(find "$tmp" -type f | wc -l) files match $3"
        rm -rf "$tmp"
    else
        diff -r "$3" "$tmp" | head -40
        echo "DIFFERENT from $3 (new outputs kept in $tmp)" >&2
        exit 1
    fi
    ;;
compare)
    a="$(mktemp -d)"; b="$(mktemp -d)"
    record "$2" "$a" "$curves"
    record "$3" "$b" "$curves"
    if diff -r "$a" "$b" >/dev/null; then
        echo "byte-identical: $(find "$a" -type f | wc -l) files"
        rm -rf "$a" "$b"
    else
        diff -r "$a" "$b" | head -40
        echo "DIFFERENT ($a vs $b kept)" >&2
        exit 1
    fi
    ;;
*) usage ;;
esac
