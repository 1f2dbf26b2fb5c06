#!/bin/sh
# Figures of the learned prior (--method prior) against today's rule (--method fitted) with
# the project's scorers, per source: the shared curves (../shared/data/curves) and the
# project's own candle curves (data/curves/candle_cpu.csv), for --method prior,
# prior-calibrated and both. The prior's mixture was chosen among five on these four sources
# (tools/prior_loso.py gives the leave-one-source-out figures); nothing else was.
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
    for m in prior prior-calibrated both; do
        python3 "$tools/policy_eval.py" "$bin" "$src" --mode single --extra "--method $m" \
            > "$out/policy_${m}_$name.txt" || true
    done
done
python3 "$tools/peek_check.py" "$bin" "$shared" --extra "--method prior" > "$out/peek_prior_curves.txt" || true
