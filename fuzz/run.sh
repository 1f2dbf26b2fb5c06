#!/usr/bin/env bash
# Build the fuzz targets with libFuzzer's coverage instrumentation (stable toolchain: the
# same codegen flags cargo-fuzz passes with `--sanitizer none`; no nightly needed) and run
# each for N minutes on a working copy of its corpus in corpus/<target>.
#
#   fuzz/run.sh [MINUTES] [TARGET...]      MINUTES defaults to 10; targets default to all
#   JOBS=2 fuzz/run.sh 10                  run two targets at a time
#   BUILD_ONLY=1 fuzz/run.sh               build the instrumented targets and stop
#   SKIP_BUILD=1 fuzz/run.sh 10 tuning     run the targets as last built
#
# A crash, timeout or out-of-memory input is saved under artifacts/<target>/; each target's
# log is logs/<target>.log and its last stats line is echoed. Exit status 1 when any target
# left an artifact. New corpus entries go to corpus-run/<target> (not committed); merge the
# interesting ones into corpus/<target> by hand (`-merge=1`), keeping the corpus small.
set -euo pipefail
cd "$(dirname "$0")"

MINUTES="${1:-10}"
shift || true
ALL=(curves_csv steps_jsonl summary_json emissions_csv intensity_csv trainer_state tensorboard
     csv_history tuning duration hardware)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")
JOBS="${JOBS:-1}"
HOST="$(rustc -vV | sed -n 's/^host: //p')"

export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# --target keeps the instrumentation off build scripts and proc macros, as cargo-fuzz does.
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --locked --target "$HOST" --bins
[ -n "${BUILD_ONLY:-}" ] && exit 0

BIN="target/$HOST/release"
mkdir -p logs artifacts corpus-run
run_one() {
    local t="$1"
    mkdir -p "corpus-run/$t" "artifacts/$t" || { echo "$t: cannot create its folders"; return 0; }
    cp -n corpus/"$t"/* "corpus-run/$t/" 2>/dev/null || true
    # -fork=1 with -ignore_*: a crash is saved and fuzzing goes on for the whole time.
    "$BIN/$t" "corpus-run/$t" -max_total_time=$((MINUTES * 60)) -max_len=65536 \
        -rss_limit_mb=2048 -timeout=10 -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
        -ignore_ooms=1 -artifact_prefix="artifacts/$t/" -print_final_stats=1 \
        >"logs/$t.log" 2>&1 || true
    echo "$t: $(grep -E '^#[0-9]+' "logs/$t.log" | tail -1)"
}
running=0
for t in "${TARGETS[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true
found=0
for t in "${TARGETS[@]}"; do
    if compgen -G "artifacts/$t/*" >/dev/null; then
        echo "artifacts left by $t:"; ls "artifacts/$t"; found=1
    fi
done
exit "$found"
