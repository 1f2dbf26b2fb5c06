#!/bin/sh
# Remakes docs/report-example.png, the README's picture: the quickstart's Snuffer run, its
# report's main chart rendered to PNG with resvg (the report crate's `report_png` example).
# Run from the repository root; it trains the quickstart (a few seconds in release).
set -eu
cargo run --release --example quickstart -- --repeats 1
cargo run --release -p snuffer-report --example report_png -- runs/quickstart-snuffer docs/report-example.png
