"""A real Lightning fit of a small network on synthetic data, with snuffer.lightning.SnufferCallback."""

from __future__ import annotations

import pytest
import torch

pl = pytest.importorskip("lightning.pytorch")

from snuffer.lightning import SnufferCallback, scheduler_change_points  # noqa: E402

from conftest import assert_run_dir, noisy_parity, render_report  # noqa: E402

MAX_STEPS = 400
TAU_RELATIVE = 0.5  # see test_hf.py
SAMPLE_S = 0.05  # see test_hf.py


class Classifier(pl.LightningModule):
    def __init__(self, milestones=None):
        super().__init__()
        # A tiny transformer encoder, random weights (the same size as test_hf.py's BERT).
        self.emb = torch.nn.Embedding(32, 16)
        self.pos = torch.nn.Parameter(torch.zeros(8, 16))
        layer = torch.nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.1, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.head = torch.nn.Linear(16, 2)
        self.milestones = milestones

    def forward(self, x):
        return self.head(self.encoder(self.emb(x) + self.pos)[:, 0])

    def training_step(self, batch, _):
        x, y = batch
        return torch.nn.functional.cross_entropy(self(x), y)

    def validation_step(self, batch, _):
        x, y = batch
        acc = (self(x).argmax(-1) == y).float().mean()
        self.log("val_acc", acc, prog_bar=False)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=3e-3)
        if not self.milestones:
            return opt
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=self.milestones, gamma=0.1)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def loaders():
    x, y = noisy_parity(2000, 1)
    xv, yv = noisy_parity(512, 2)
    train = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16, shuffle=True,
                                        generator=torch.Generator().manual_seed(0))
    val = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xv, yv), batch_size=512)
    return train, val


def fit(tmp_path, tag, milestones=None):
    pl.seed_everything(0, verbose=False)
    model = Classifier(milestones)
    cb = SnufferCallback("val_acc", tau_relative=TAU_RELATIVE, sample_interval_s=SAMPLE_S)
    trainer = pl.Trainer(
        max_steps=MAX_STEPS, val_check_interval=10, check_val_every_n_epoch=None, callbacks=[cb],
        accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path / tag),
        num_sanity_val_steps=0,
    )
    train, val = loaders()
    trainer.fit(model, train, val)
    return trainer, cb


def test_stops_on_plateau_and_writes_a_run_dir_that_report_renders(tmp_path):
    trainer, cb = fit(tmp_path, "plateau")
    assert cb.stopped_at is not None and cb.stopped_at < MAX_STEPS
    assert trainer.global_step == cb.stopped_at  # trainer.should_stop, Lightning's own switch
    assert cb.decision.policy == "marginal_gain"
    summary = assert_run_dir(cb.run_dir, stopped_at=cb.stopped_at)
    assert summary["steps"] == cb.stopped_at and summary["planned_steps"] == MAX_STEPS
    assert summary["metric_name"] == "val_acc" and summary["higher_is_better"] is True
    render_report(cb.run_dir, tmp_path / "report")
    print(f"Lightning plateau: stopped at step {cb.stopped_at} of {MAX_STEPS}: {cb.decision.reason}")


def test_keeps_going_on_a_plateau_with_a_scheduled_decay_ahead(tmp_path):
    _, plain = fit(tmp_path, "plain")
    assert plain.stopped_at is not None and plain.stopped_at < MAX_STEPS
    decay_at = plain.stopped_at + 20
    trainer, cb = fit(tmp_path, "decay", milestones=[decay_at])
    assert cb.schedule == [decay_at]  # read from the MultiStepLR
    assert cb.stopped_at is None or cb.stopped_at > decay_at
    assert trainer.global_step > decay_at
    print(f"Lightning decay ahead: plain run stopped at {plain.stopped_at}; with the decay at "
          f"{decay_at} the run went on to {trainer.global_step}")


def test_epoch_interval_schedulers_count_in_optimizer_steps(tmp_path):
    class Epochs(Classifier):
        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=2)}

    cb = SnufferCallback("val_acc", policy="none")
    trainer = pl.Trainer(max_epochs=5, limit_train_batches=10, callbacks=[cb], accelerator="cpu", devices=1,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=str(tmp_path), num_sanity_val_steps=0)
    train, val = loaders()
    trainer.fit(Epochs(), train, val)
    assert cb.schedule == [20, 40]  # every 2 epochs of 10 optimizer steps
    assert scheduler_change_points(trainer) == [20, 40]
    assert cb.summary["steps"] == 50
