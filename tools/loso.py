#!/usr/bin/env python3
"""Leave-one-source-out choice of Snuffer's cold-start constants, with the project's scorers.

usage: tools/loso.py SNUFFER CURVES_DIR GRID_JSON [--mode single|sweep] [--extra "replay args"]
                     [--also CSV ...]

GRID_JSON maps settings to the values to try. A key `t:NAME` is a forecaster prior
(`snuffer replay --tuning NAME=V`); any other key is a `snuffer replay` flag (`idle-decay`
-> `--idle-decay V`). Example:

  tools/loso.py target/release/snuffer ../shared/data/curves \\
      '{"t:surprise":[0.6,1.0,1.5],"idle-decay":[0.1,0.15,0.2]}'

For every combination it runs ../shared/tools/policy_eval.py (the scorer the project is
judged by) and reads each source's capture at tau_n 0.1 and 0.3 (sweep mode: each source's
sweep utility gain against the better of the median stopping rule and ASHA, and what its
best run lost). Then, for each source, it picks the combination that does best on the OTHER
sources (mean capture, a negative capture counting three times) and prints that choice's
figures on the left-out source: the out-of-sample figure to report. `--also CSV` scores the
chosen combinations on extra curves files that take no part in any choice (e.g. the
project's own data/curves/candle_cpu.csv).
"""
import argparse, itertools, json, os, re, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("snuffer"); ap.add_argument("curves"); ap.add_argument("grid")
ap.add_argument("--mode", choices=("single", "sweep"), default="single")
ap.add_argument("--extra", default="")
ap.add_argument("--also", nargs="*", default=[])
ap.add_argument("--scorer", default=os.path.join(HERE, "..", "..", "shared", "tools", "policy_eval.py"))
a = ap.parse_args()

def score(curves, extra):
    """{tau: {source: figure}} from one scorer run."""
    cmd = [sys.executable, a.scorer, a.snuffer, curves, "--mode", a.mode, "--extra", extra]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    res, tau = {}, None
    for line in out.splitlines():
        m = re.match(r"\[\w+\] tau_n=([\d.]+) marginal: capture ([-\d.]+)", line)
        if m:
            tau = m.group(1); res.setdefault(tau, {})["all"] = float(m.group(2)); continue
        m = re.match(r"\s+(\S+)\s+capture\s+([-\d.]+)\s+saved", line)
        if m and tau and a.mode == "single":
            res[tau][m.group(1)] = float(m.group(2))
        m = re.match(r"\s+sweep view: .* best run lost ([\d.]+) .* utility gain ([-\d.]+) \(best of median stopping rule and ASHA ([-\d.]+)\)", line)
        if m and tau:
            res[tau]["sweep"] = tuple(float(x) for x in m.groups())
    return res

def sources_of(curves):
    if os.path.isdir(curves):
        return sorted(f[:-4] for f in os.listdir(curves)
                      if f.endswith(".csv") and "_runs" not in f and f not in ("tasks.csv", "lcdb.csv"))
    return [curves]

grid = json.loads(a.grid)
keys = list(grid)
rows = []
for vals in itertools.product(*[grid[k] for k in keys]):
    tun = ["%s=%s" % (k[2:], v) for k, v in zip(keys, vals) if k.startswith("t:")]
    flags = ["--%s %s" % (k, v) for k, v in zip(keys, vals) if not k.startswith("t:")]
    extra = " ".join(filter(None, [a.extra] + flags + (["--tuning " + ",".join(tun)] if tun else [])))
    if a.mode == "single":
        r = score(a.curves, extra)
        per = {s: (r["0.10"][s], r["0.30"][s]) for s in r.get("0.10", {}) if s != "all"}
    else:
        # One scorer run per source file: the sweep view is per sweep, summed per source.
        per = {}
        for s in sources_of(a.curves):
            r = score(os.path.join(a.curves, s + ".csv"), extra)
            per[s] = tuple(r[t]["sweep"][1] - r[t]["sweep"][2] for t in ("0.10", "0.30"))
            per[s + ":lost"] = tuple(r[t]["sweep"][0] for t in ("0.10", "0.30"))
    rows.append((dict(zip(keys, vals)), extra, per))
    print(json.dumps(rows[-1][0]), " ".join("%s %.2f/%.2f" % (s, *v) for s, v in sorted(per.items())), flush=True)

srcs = sorted(s for s in rows[0][2] if ":" not in s)
def objective(per, train):
    v = [c if c >= 0 else 3 * c for s in train for c in per[s]]
    return sum(v) / len(v)
print("\nleave one source out (figure on the source left out; %s):" % (
    "capture at tau_n 0.1 / 0.3" if a.mode == "single" else "sweep utility gain minus the best baseline's, 0.1 / 0.3"))
chosen = []
for held in srcs:
    best = max(rows, key=lambda r: objective(r[2], [s for s in srcs if s != held]))
    chosen.append(best)
    lost = best[2].get(held + ":lost")
    print("  %-14s chose %s -> %.2f / %.2f%s" % (held, json.dumps(best[0]), *best[2][held],
          "  (best run lost %.3f / %.3f)" % lost if lost else ""))
for extra_csv in a.also:
    for best in chosen:
        r = score(extra_csv, best[1])
        print("  %s with %s -> %s" % (extra_csv, json.dumps(best[0]),
              " / ".join("%.2f" % r[t]["all"] for t in ("0.10", "0.30"))))
