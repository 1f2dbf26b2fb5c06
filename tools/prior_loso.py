#!/usr/bin/env python3
"""Chooses the learned prior's synthetic mixture leave-one-source-out.

Each candidate is a model trained by `train_prior --mixture NAME` with the same settings
(same steps, batch and seed). Every candidate is scored with the project's scorer
(../shared/tools/policy_eval.py --mode single, `--method prior --prior-weights FILE`) on every
source: the shared ones (mlperf_v1.0, opda, pythia) and the project's own candle curves. For
each source left out, the candidate with the best mean capture over the other sources (both
tau_n) is chosen, and its capture on the left-out source is the leave-one-source-out figure.
The candidate chosen on all sources is the one to ship.

    python3 tools/prior_loso.py target/release/snuffer OUT_DIR NAME=WEIGHTS [NAME=WEIGHTS ...]

Writes OUT_DIR/policy_NAME_SOURCE.txt (the scorer's output) and prints the table and the
choices. Reruns reuse the scorer outputs already in OUT_DIR.
"""
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.realpath(__file__))
shared = os.path.join(here, "..", "..", "shared")
SOURCES = {
    "curves": os.path.join(shared, "data", "curves"),
    "candle_cpu": os.path.join(here, "..", "data", "curves", "candle_cpu.csv"),
}


def score(binary, out, name, weights):
    """Per-source capture at each tau_n: {source: {tau_n: capture}}."""
    result = {}
    for key, path in SOURCES.items():
        txt = os.path.join(out, "policy_%s_%s.txt" % (name, key))
        if not os.path.exists(txt):
            extra = "--method prior --prior-weights %s" % os.path.realpath(weights)
            with open(txt + ".tmp", "w") as f:
                subprocess.run([sys.executable, os.path.join(shared, "tools", "policy_eval.py"),
                                binary, path, "--mode", "single", "--extra", extra, "--jobs", "1"],
                               stdout=f, stderr=subprocess.STDOUT, check=False)
            os.replace(txt + ".tmp", txt)
        tau = None
        for line in open(txt):
            m = re.match(r"\[single\] tau_n=([0-9.]+) ", line)
            if m:
                tau = float(m.group(1))
                continue
            m = re.match(r"\s+(\S+)\s+capture\s+(-?[0-9.]+)", line)
            if m and tau is not None:
                result.setdefault(m.group(1), {})[tau] = float(m.group(2))
    return result


def mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else float("nan")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    binary, out = os.path.realpath(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    cands = dict(a.split("=", 1) for a in sys.argv[3:])
    scores = {n: score(binary, out, n, w) for n, w in cands.items()}
    sources = sorted({s for sc in scores.values() for s in sc})
    taus = sorted({t for sc in scores.values() for s in sc.values() for t in s})
    print("capture per source at tau_n " + " / ".join("%.1f" % t for t in taus))
    print("%-14s" % "candidate" + "".join("%-16s" % s for s in sources))
    for n, sc in scores.items():
        print("%-14s" % n + "".join("%-16s" % " / ".join("%.2f" % sc.get(s, {}).get(t, float("nan")) for t in taus)
                                    for s in sources))

    def overall(n, keep):
        return mean(scores[n].get(s, {}).get(t, float("nan")) for s in keep for t in taus)

    print("\nleave one source out (chosen on the others by mean capture):")
    for left in sources:
        keep = [s for s in sources if s != left]
        pick = max(cands, key=lambda n: overall(n, keep))
        print("  %-14s chosen %-14s its capture there %s" % (
            left, pick, " / ".join("%.2f" % scores[pick][left][t] for t in taus)))
    pick = max(cands, key=lambda n: overall(n, sources))
    print("chosen on every source: %s (mean capture %.3f)" % (pick, overall(pick, sources)))


if __name__ == "__main__":
    main()
