"""A real Keras 3 fit (torch backend) of a small attention model on synthetic data, with
snuffer.keras.SnufferCallback."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from snuffer.keras import SnufferCallback, optimizer_change_points  # noqa: E402

from conftest import assert_run_dir, noisy_parity, render_report  # noqa: E402

EPOCHS = 40
STEPS_PER_EPOCH = 10
MAX_STEPS = EPOCHS * STEPS_PER_EPOCH
# See test_hf.py: on this short, perfectly flat plateau the gain rate sits at 1.1-1.3 × τ
# with 0.5, so the test asks for 1.0 ("less than the gain so far per energy so far").
TAU_RELATIVE = 1.0
WARMUP = 10


def model_and_data(decay_at=None):
    keras.utils.set_random_seed(0)
    inp = keras.Input((8,), dtype="int32")
    h = keras.layers.Embedding(32, 16)(inp)
    h = h + keras.layers.MultiHeadAttention(2, 8)(h, h)
    h = keras.layers.LayerNormalization()(h)
    out = keras.layers.Dense(2)(h[:, 0])
    model = keras.Model(inp, out)
    # A short warm-up at a tenth of the rate, then 1e-3; with decay_at, a tenth again from there.
    if decay_at is None:
        lr = keras.optimizers.schedules.PiecewiseConstantDecay([WARMUP], [1e-4, 1e-3])
    else:
        lr = keras.optimizers.schedules.PiecewiseConstantDecay([WARMUP, decay_at], [1e-4, 1e-3, 1e-4])
    model.compile(
        optimizer=keras.optimizers.AdamW(lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    x, y = noisy_parity(2000 * 4, 1)
    xv, yv = noisy_parity(512, 2)
    return model, (x.numpy(), y.numpy()), (xv.numpy(), yv.numpy())


def fit(tmp_path, tag, decay_at=None):
    model, (x, y), val = model_and_data(decay_at)
    cb = SnufferCallback("val_accuracy", out_dir=str(tmp_path / tag), tau_relative=TAU_RELATIVE,
                         sample_interval_s=0.05)  # see test_hf.py
    hist = model.fit(x, y, batch_size=16, epochs=EPOCHS, steps_per_epoch=STEPS_PER_EPOCH,
                     validation_data=val, callbacks=[cb], verbose=0)
    return hist, cb


def test_stops_on_plateau_and_writes_a_run_dir_that_report_renders(tmp_path):
    hist, cb = fit(tmp_path, "plateau")
    assert cb.schedule == [WARMUP]
    assert cb.stopped_at is not None and cb.stopped_at < MAX_STEPS
    assert len(hist.history["val_accuracy"]) * STEPS_PER_EPOCH == cb.stopped_at  # model.stop_training
    assert cb.decision.policy == "marginal_gain"
    summary = assert_run_dir(cb.run_dir, stopped_at=cb.stopped_at)
    assert summary["steps"] == cb.stopped_at and summary["planned_steps"] == MAX_STEPS
    assert summary["metric_name"] == "val_accuracy" and summary["higher_is_better"] is True
    render_report(cb.run_dir, tmp_path / "report")
    print(f"Keras plateau: stopped at step {cb.stopped_at} of {MAX_STEPS}: {cb.decision.reason}")


def test_keeps_going_on_a_plateau_with_a_scheduled_decay_ahead(tmp_path):
    _, plain = fit(tmp_path, "plain")
    assert plain.stopped_at is not None and plain.stopped_at < MAX_STEPS
    decay_at = plain.stopped_at + 20
    hist, cb = fit(tmp_path, "decay", decay_at=decay_at)
    assert cb.schedule == [WARMUP, decay_at]  # read from the PiecewiseConstantDecay
    steps = len(hist.history["val_accuracy"]) * STEPS_PER_EPOCH
    assert cb.stopped_at is None or cb.stopped_at > decay_at
    assert steps > decay_at
    print(f"Keras decay ahead: plain run stopped at {plain.stopped_at}; with the decay at {decay_at} "
          f"the run went on to {steps}")


def test_change_points_of_a_piecewise_schedule():
    sched = keras.optimizers.schedules.PiecewiseConstantDecay([100, 300], [1e-2, 1e-3, 1e-4])
    assert optimizer_change_points(keras.optimizers.SGD(sched)) == [100, 300]
    assert optimizer_change_points(keras.optimizers.SGD(0.1)) == []
