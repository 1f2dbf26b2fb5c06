"""Snuffer for Lightning: one callback.

>>> from snuffer.lightning import SnufferCallback
>>> trainer = L.Trainer(max_steps=10_000, callbacks=[SnufferCallback("val_loss")])  # doctest: +SKIP

It stamps every optimizer step (``on_train_batch_end``, counted by ``trainer.global_step``,
so gradient accumulation counts once per optimizer step), and after each validation
(``on_validation_end``, sanity checks excluded) passes the monitored metric from
``trainer.callback_metrics`` to the run; when the policy says stop it sets
``trainer.should_stop``, Lightning's own switch. The plan is ``trainer.estimated_stepping_batches``;
learning-rate change points come from the optimizers' ``StepLR``/``MultiStepLR`` schedulers
(interval ``"step"`` or ``"epoch"``) and from ``schedule=``.

Best weights: left to Lightning. A ``ModelCheckpoint(monitor=..., mode=..., save_top_k=1)``
keeps the best checkpoint; load it after ``fit`` with ``ckpt_path="best"`` (``trainer.test``)
or ``Model.load_from_checkpoint(checkpoint.best_model_path)``.

Under DDP every rank runs the callback; one decides and every rank stops at the same step
(see :mod:`snuffer.distributed`).
"""

from __future__ import annotations

import math
import os
from typing import Any, Iterable, List, Optional

try:
    import lightning.pytorch as pl
except ImportError:  # the older package name
    import pytorch_lightning as pl  # type: ignore[no-redef]

from ._common import Tracking, mode_for, run_kwargs

__all__ = ["SnufferCallback", "scheduler_change_points"]


def scheduler_change_points(trainer: Any) -> List[int]:
    """Optimizer steps at which a ``StepLR`` or ``MultiStepLR`` of the trainer changes the rate."""
    points: List[int] = []
    planned = trainer.estimated_stepping_batches
    planned = int(planned) if planned and math.isfinite(planned) else 0
    per_epoch = 0
    if trainer.max_epochs and trainer.max_epochs > 0 and planned:
        per_epoch = max(1, planned // trainer.max_epochs)
    for cfg in getattr(trainer, "lr_scheduler_configs", []) or []:
        sched = cfg.scheduler
        unit = 1 if cfg.interval == "step" else per_epoch
        every = max(1, int(getattr(cfg, "frequency", 1) or 1)) * unit
        if not every:
            continue
        name = type(sched).__name__
        if name == "MultiStepLR":
            points += [int(m) * every for m in sched.milestones]
        elif name == "StepLR" and planned:
            size = int(sched.step_size) * every
            points += list(range(size, planned, size))
    return sorted({p for p in points if p > 0 and (not planned or p < planned)})


class SnufferCallback(pl.Callback, Tracking):
    """Stops a Lightning run once the rest of it is not expected to pay for its energy.

    Args:
        monitor: the logged validation metric (``self.log("val_loss", ...)``).
        mode: ``"min"`` or ``"max"`` (default from the name: loss-like names are ``"min"``).
        name: the run's name (default ``"lightning"``).
        out_dir: the run directory (default ``<trainer.default_root_dir>/snuffer``).
        policy: ``"marginal"`` (default), ``"patience"``, ``"target"``, ``"budget"``,
            ``"none"`` or a list of them.
        schedule: extra learning-rate change points (optimizer steps).
        **run_kwargs: any other :class:`snuffer.Run` keyword (``tau``, ``tau_relative``, ...).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        mode: Optional[str] = None,
        *,
        name: str = "lightning",
        out_dir: Optional[str] = None,
        policy: Any = "marginal",
        schedule: Optional[Iterable[int]] = None,
        **run_kwargs: Any,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.mode = mode_for(monitor, mode)
        self._init_tracking(name, out_dir, policy, schedule, run_kwargs)
        self._seen = 0

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        if self.run is not None:
            return
        planned = trainer.estimated_stepping_batches
        planned = int(planned) if planned and math.isfinite(planned) else None
        self.schedule = sorted(set(scheduler_change_points(trainer) + self.extra_schedule))
        kw = run_kwargs(self.monitor, self.mode, planned, self.schedule, self.policy, self.run_kwargs)
        kw.setdefault("out_dir", self.out_dir or os.path.join(trainer.default_root_dir, "snuffer"))
        self._open(self.name, kw)
        self._seen = trainer.global_step

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.run is None:
            return
        while self._seen < trainer.global_step:
            self._seen += 1
            self.run.step()

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self.run is None or trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is None:
            raise KeyError(
                f"snuffer: no logged metric {self.monitor!r} after validation (logged: "
                f"{sorted(trainer.callback_metrics)}); pass SnufferCallback(monitor=...)"
            )
        if self._decide(float(value), trainer.global_step):
            trainer.should_stop = True

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        self._finish()
