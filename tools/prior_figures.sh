#!/bin/sh
# Figures of the learned prior (--method prior) against today's rule (--method fitted) with
# the project's scorers, per source: the shared curves (../shared/data/curves) and the
# project's own candle curves (data/curves/candle_cpu.csv). No constant of the prior was
# chosen on any of them (its mixture is fixed a priori), so every figure is out of sample.
#   tools/prior_figures.sh target/release/snuffer OUT_DIR
set -eu
bin="$(realpath "$1")"; out="$2"; mkdir -p "$out"
here="$(dirname "$(realpath "$0")")"
tools="$here/../../shared/tools"; shared="$here/../../shared/data/curves"
own="$here/../data/curves/candle_cpu.csv"
for src in "$shared" "$own"; do
    name=$(basename "$src" .csv)
    python3 "$tools/forecast_eval.py" "$bin" "$src" --observed 0.2 > "$out/forecast_fitted_$name.txt" || true
    SNUFFER_BIN="$bin" python3 "$tools/forecast_eval.py" "$here/snuffer-prior-forecast" "$src" --observed 0.2 \
        > "$out/forecast_prior_$name.txt" || true
    python3 "$tools/policy_eval.py" "$bin" "$src" --mode single > "$out/policy_fitted_$name.txt" || true
    python3 "$tools/policy_eval.py" "$bin" "$src" --mode single --extra "--method prior" \
        > "$out/policy_prior_$name.txt" || true
done
python3 "$tools/peek_check.py" "$bin" "$shared" --extra "--method prior" > "$out/peek_prior_curves.txt" || true
