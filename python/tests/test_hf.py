"""A real transformers.Trainer fine-tune of a tiny BERT built from a config (random weights,
synthetic data made here), with snuffer.hf.SnufferCallback."""

from __future__ import annotations

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments  # noqa: E402

from snuffer.hf import SnufferCallback, schedule_change_points  # noqa: E402

from conftest import assert_run_dir, noisy_parity, read_steps, render_report, run_cli  # noqa: E402

MAX_STEPS = 400
WARMUP = 10
# "Stop when one more energy-so-far would buy less than half the gain so far": the
# default 0.3 sits at the edge on a plateau this short (the gain rate hovers at 0.9-1.0 τ).
TAU_RELATIVE = 0.5
# A run counts as measured after three sampler intervals; these runs last a second or two.
SAMPLE_S = 0.05


class Pairs(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        self.x, self.y = noisy_parity(n, seed)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "labels": self.y[i]}


def accuracy(p):
    return {"accuracy": float((np.argmax(p.predictions, -1) == p.label_ids).mean())}


def fine_tune(tmp_path, tag, decay_at=None, **callback_kwargs):
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=16, num_labels=2,
    )
    model = BertForSequenceClassification(cfg)
    if decay_at is None:
        sched = dict(lr_scheduler_type="constant_with_warmup")
    else:
        sched = dict(
            lr_scheduler_type="warmup_stable_decay",
            lr_scheduler_kwargs={"num_stable_steps": decay_at - WARMUP, "num_decay_steps": MAX_STEPS - decay_at},
        )
    args = TrainingArguments(
        output_dir=str(tmp_path / tag), max_steps=MAX_STEPS, per_device_train_batch_size=16,
        learning_rate=3e-3, warmup_steps=WARMUP, eval_strategy="steps", eval_steps=10,
        logging_steps=10, save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True,
        seed=0, dataloader_num_workers=0, **sched,
    )
    callback_kwargs.setdefault("tau_relative", TAU_RELATIVE)
    callback_kwargs.setdefault("sample_interval_s", SAMPLE_S)
    cb = SnufferCallback(metric="accuracy", **callback_kwargs)
    trainer = Trainer(
        model=model, args=args, train_dataset=Pairs(2000, 1), eval_dataset=Pairs(512, 2),
        callbacks=[cb], compute_metrics=accuracy,
    )
    trainer.train()
    return trainer, cb


def test_stops_on_plateau_and_writes_a_run_dir_that_report_renders(tmp_path):
    trainer, cb = fine_tune(tmp_path, "plateau")
    # The accuracy reaches its ceiling (0.8, the labels' noise) within ~30 steps, then stays.
    assert cb.stopped_at is not None, "the run was not stopped on its plateau"
    assert cb.stopped_at < MAX_STEPS
    assert trainer.state.global_step == cb.stopped_at  # the Trainer's own switch stopped it
    assert cb.schedule == [WARMUP]  # the warm-up's end, read from the arguments
    assert cb.decision.should_stop and cb.decision.policy == "marginal_gain"
    assert cb.decision.evidence["kind"] == "marginal_gain"
    summary = assert_run_dir(cb.run_dir, stopped_at=cb.stopped_at)
    assert summary["steps"] == cb.stopped_at
    assert summary["planned_steps"] == MAX_STEPS
    assert summary["metric_name"] == "eval_accuracy" and summary["higher_is_better"] is True
    assert summary["provenance"]["kind"] in ("counter", "integrated_power", "estimated")
    evals = [r for r in read_steps(cb.run_dir) if r["kind"] == "eval"]
    assert len(evals) == cb.stopped_at // 10
    html = render_report(cb.run_dir, tmp_path / "report")
    assert "eval_accuracy" in html
    # compare and whatif read it as a Snuffer run directory, like a Rust run's.
    table = run_cli("compare", cb.run_dir)
    assert "hf-trainer" in table and f"stopped early by marginal_gain at step {cb.stopped_at}" in table
    whatif = run_cli("whatif", cb.run_dir)
    assert "snuffer_run" in whatif and f"up to step {cb.stopped_at}" in whatif
    print(f"HF plateau: stopped at step {cb.stopped_at} of {MAX_STEPS}: {cb.decision.reason}")


def test_keeps_going_on_a_plateau_with_a_scheduled_decay_ahead(tmp_path):
    _, plain = fine_tune(tmp_path, "plain")
    assert plain.stopped_at is not None and plain.stopped_at < MAX_STEPS
    # The same run (same seed, same rate until the decay), with the decay starting 20 steps
    # after the point where the plain run stopped: the curves are identical up to there.
    decay_at = plain.stopped_at + 20
    trainer, cb = fine_tune(tmp_path, "decay", decay_at=decay_at)
    assert cb.schedule == [WARMUP, decay_at]
    assert cb.stopped_at is None or cb.stopped_at > decay_at, (
        f"stopped at {cb.stopped_at} although the decay at {decay_at} was ahead"
    )
    assert trainer.state.global_step > decay_at
    print(f"HF decay ahead: plain run stopped at {plain.stopped_at}; with the decay at {decay_at} "
          f"the run went on to {trainer.state.global_step}")


def test_schedule_change_points_from_the_arguments(tmp_path):
    def args(**kw):
        return TrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True, **kw)

    assert schedule_change_points(args(lr_scheduler_type="linear"), 1000) == []
    assert schedule_change_points(args(lr_scheduler_type="cosine", warmup_steps=100), 1000) == [100]
    restarts = args(lr_scheduler_type="cosine_with_restarts", warmup_steps=100, lr_scheduler_kwargs={"num_cycles": 3})
    assert schedule_change_points(restarts, 1000) == [100, 400, 700]
    wsd = args(lr_scheduler_type="warmup_stable_decay", warmup_steps=50, lr_scheduler_kwargs={"num_decay_steps": 200})
    assert schedule_change_points(wsd, 1000) == [50, 800]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    multi = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[300, 600])
    assert schedule_change_points(args(), 1000, multi) == [300, 600]
    step = torch.optim.lr_scheduler.StepLR(opt, step_size=400)
    assert schedule_change_points(args(), 1000, step) == [400, 800]


def test_a_missing_metric_names_what_there_is(tmp_path):
    cb = SnufferCallback(metric="f1")
    with pytest.raises(KeyError, match="eval_f1.*eval_accuracy"):
        fine_tune_missing(tmp_path, cb)


def fine_tune_missing(tmp_path, cb):
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=16, num_labels=2)
    args = TrainingArguments(output_dir=str(tmp_path / "missing"), max_steps=20, eval_strategy="steps",
                             eval_steps=10, save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True)
    Trainer(model=BertForSequenceClassification(cfg), args=args, train_dataset=Pairs(64, 1),
            eval_dataset=Pairs(32, 2), callbacks=[cb], compute_metrics=accuracy).train()
