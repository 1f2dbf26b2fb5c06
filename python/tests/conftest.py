"""Shared helpers: the `snuffer` CLI for rendering reports, a synthetic task, one thread."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Two cores shared with everything else: one intra-op thread keeps the runs' timing stable.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("KERAS_BACKEND", "torch")
try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is a test requirement
    pass


def snuffer_bin() -> str:
    """The CLI: $SNUFFER_BIN, else target/{debug,release}/snuffer, else `snuffer` on PATH."""
    env = os.environ.get("SNUFFER_BIN")
    if env:
        return env
    for profile in ("debug", "release"):
        p = ROOT / "target" / profile / "snuffer"
        if p.exists():
            return str(p)
    found = shutil.which("snuffer")
    if found:
        return found
    pytest.fail("the snuffer CLI was not found: build it (cargo build -p snuffer-cli) or set SNUFFER_BIN")


def render_report(run_dir: str, out: Path) -> str:
    """`snuffer report RUN_DIR --out OUT`; returns report.html's text."""
    res = subprocess.run(
        [snuffer_bin(), "report", str(run_dir), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, f"snuffer report failed:\n{res.stdout}\n{res.stderr}"
    html = (out / "report.html").read_text()
    assert "<svg" in html or ".svg" in html
    return html


def run_cli(*args: str) -> str:
    """`snuffer ARGS…`; returns its standard output (fails the test on a non-zero status)."""
    res = subprocess.run([snuffer_bin(), *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"snuffer {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout


def read_steps(run_dir: str) -> list:
    with open(os.path.join(run_dir, "steps.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_summary(run_dir: str) -> dict:
    with open(os.path.join(run_dir, "summary.json")) as f:
        return json.load(f)


def noisy_parity(n: int, seed: int, vocab: int = 32, length: int = 8):
    """Tokens and labels: label = first token < vocab/2, with 20 % of labels flipped, so the
    best accuracy is 0.8 and a model reaches it quickly, then plateaus."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, vocab, (n, length), generator=g)
    y = (x[:, 0] < vocab // 2).long()
    flip = torch.rand(n, generator=g) < 0.2
    return x, torch.where(flip, 1 - y, y)


def assert_run_dir(run_dir: str, stopped_at=None) -> dict:
    for f in ("steps.jsonl", "summary.json", "emissions.csv"):
        assert os.path.exists(os.path.join(run_dir, f)), f"{f} missing in {run_dir}"
    summary = read_summary(run_dir)
    assert summary["finished"] is True
    assert summary["energy_j"] > 0
    if stopped_at is not None:
        assert summary["stop"] is not None, "summary.json has no stop"
    return summary
