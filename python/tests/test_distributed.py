"""Two processes under torchrun (gloo, CPU): one stop decision, every rank stops at the same
step, and the run's energy is the sum of both ranks'."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from conftest import ROOT, read_steps, read_summary, render_report  # noqa: E402

HERE = Path(__file__).resolve().parent


def test_two_ranks_stop_at_the_same_step_and_sum_their_energy(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        p for p in [str(ROOT / "python") if (ROOT / "python" / "snuffer" / "_native.abi3.so").exists() else "",
                    os.environ.get("PYTHONPATH", "")] if p))
    res = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         str(HERE / "dist_train.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert res.returncode == 0, f"torchrun failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    r0 = json.loads((tmp_path / "rank0.json").read_text())
    r1 = json.loads((tmp_path / "rank1.json").read_text())
    # One decision, every rank stops at the same step (before the plan's end).
    assert r0["stopped_at"] is not None and r0["stopped_at"] < 400
    assert r0["stopped_at"] == r1["stopped_at"] == r0["last_step"] == r1["last_step"]
    assert r0["dir"] == r1["dir"]  # one run directory per job
    run_dir = r0["dir"]
    summary = read_summary(run_dir)
    assert summary["steps"] == r0["stopped_at"]
    # The recorded energy is the sum of both ranks': rank 1's domains carry exactly what
    # rank 1 read at its last collective, rank 0's its own meters.
    doms = {d["name"]: d["joules"] for d in summary["domains"]}
    rank0 = sum(j for n, j in doms.items() if n.startswith("rank0@"))
    rank1 = sum(j for n, j in doms.items() if n.startswith("rank1@"))
    assert set(doms) == {n for n in doms if n.startswith(("rank0@", "rank1@"))}
    assert rank0 > 0 and rank1 > 0
    assert rank1 == pytest.approx(r1["own_energy_j"], rel=1e-9)
    assert summary["energy_j"] == pytest.approx(rank0 + rank1, rel=1e-9)
    # Per-node energy: ranks.json, and every eval line's domains.
    ranks = json.loads((Path(run_dir) / "ranks.json").read_text())
    assert [r["rank"] for r in ranks["ranks"]] == [0, 1]
    assert sum(ranks["nodes_energy_j"].values()) == pytest.approx(summary["energy_j"], rel=1e-9)
    evals = [r for r in read_steps(run_dir) if r["kind"] == "eval"]
    assert all(any(d["name"].startswith("rank1@") for d in e["energy"]["domains"]) for e in evals)
    stop_line = next(line for line in res.stdout.splitlines() if "stop line" in line)
    print(stop_line)
    render_report(run_dir, tmp_path / "report")
