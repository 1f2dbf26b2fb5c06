"""snuffer.Run: the Rust core through the extension — decisions, errors, files."""

from __future__ import annotations

import math

import pytest

import snuffer

from conftest import read_steps, read_summary


def test_context_manager_stops_on_target_and_writes_the_run_dir(tmp_path):
    out = tmp_path / "r"
    with snuffer.Run("t", out_dir=out, planned_steps=1000, metric="val_acc", policy="target",
                     target=0.974, power_w=50.0, sample_interval_s=0.01) as run:
        for step in range(1, 1001):
            run.step()
            if step % 100 == 0:
                d = run.eval(1.0 - 0.5 / math.sqrt(step))
                if d.should_stop:
                    break
    assert d.should_stop and bool(d) and d.policy == "target" and d.step == 400
    assert d.evidence["kind"] == "target"
    assert "target" in d.reason
    assert run.finished
    s = read_summary(out)
    assert s["steps"] == 400 and s["stop"]["policy"] == "target"
    assert s["provenance"]["kind"] == "estimated"  # a constant power is a model, not a measurement
    kinds = [r["kind"] for r in read_steps(out)]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("eval") == 4


def test_nan_metric_stops_with_divergence(tmp_path):
    run = snuffer.Run("nan", out_dir=tmp_path / "n", planned_steps=100, power_w=10.0)
    run.step()
    d = run.eval(float("nan"))
    assert d.should_stop and d.policy == "divergence"
    summary = run.finish()
    assert summary["stop"]["policy"] == "divergence"
    assert run.finish() == summary  # idempotent


def test_patience_and_marginal_together(tmp_path):
    run = snuffer.Run("p", out_dir=tmp_path / "p", planned_steps=100, policy=["marginal", "patience"],
                      patience=2, mode="min", power_w=10.0)
    decisions = []
    for v in [1.0, 0.5, 0.6, 0.7]:
        run.step()
        decisions.append(run.eval(v))
    assert [d.should_stop for d in decisions] == [False, False, False, True]
    assert decisions[-1].policy == "patience"
    assert decisions[1].new_best and not decisions[2].new_best
    run.finish()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(mode="up"), 'mode "up"'),
        (dict(policy="sometimes"), 'unknown policy "sometimes"'),
        (dict(policy="patience"), "needs patience=N"),
        (dict(tau=1.0, tau_relative=0.3), "either tau"),
        (dict(tau=-1.0), "tau"),
        (dict(planned_steps=0), "planned_steps"),
        (dict(sample_interval_s=0.0), "sample_interval_s"),
        (dict(bounds=(1.0, 0.0)), "bounds"),
    ],
)
def test_bad_settings_raise_value_error_with_the_rust_message(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        snuffer.Run("bad", out_dir=tmp_path / "b", power_w=10.0, **kwargs)


def test_finished_run_raises_snuffer_error(tmp_path):
    run = snuffer.Run("f", out_dir=tmp_path / "f", power_w=10.0)
    run.finish()
    with pytest.raises(snuffer.SnufferError, match="is finished"):
        run.step()


def test_unwritable_run_dir_is_a_snuffer_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(snuffer.SnufferError, match="cannot create run directory"):
        snuffer.Run("w", out_dir=blocker / "run", power_w=10.0)


def test_node_meter_reads_monotone_labelled_energy():
    m = snuffer.NodeMeter(prefix="rank0@here:")
    names = [d[0] for d in m.domains()]
    assert names and all(n.startswith("rank0@here:") for n in names)
    assert all(d[1] in ("counter", "integrated_power", "estimated") for d in m.domains())
    a = m.read()
    sum(i * i for i in range(200_000))
    b = m.read()
    assert len(a) == len(b) == len(names) and all(y >= x for x, y in zip(a, b))
