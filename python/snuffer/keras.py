"""Snuffer for Keras 3 (any backend): one callback.

>>> from snuffer.keras import SnufferCallback
>>> model.fit(x, y, validation_data=(xv, yv), epochs=100,
...           callbacks=[SnufferCallback("val_loss")])               # doctest: +SKIP

It stamps every batch (``on_train_batch_end``: one optimizer step), and at each epoch's end
passes the monitored metric from ``logs`` (``val_loss`` by default, so give
``validation_data``) to the run; when the policy says stop it sets ``model.stop_training``,
Keras's own switch. The plan is ``epochs × steps`` from ``fit``'s parameters; the
learning-rate change points of a ``PiecewiseConstantDecay`` schedule (its ``boundaries``, in
optimizer steps) and ``schedule=`` go to the stop rule.

Best weights: left to Keras. ``keras.callbacks.ModelCheckpoint(path, monitor="val_loss",
save_best_only=True)`` keeps them, or ``EarlyStopping(restore_best_weights=True,
patience=<large>)`` restores them when training ends.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, List, Optional

import keras

from ._common import Tracking, mode_for, run_kwargs

__all__ = ["SnufferCallback", "optimizer_change_points"]


def optimizer_change_points(optimizer: Any) -> List[int]:
    """Optimizer steps at which a ``PiecewiseConstantDecay`` learning rate changes."""
    lr = getattr(optimizer, "_learning_rate", None)
    if lr is None:
        lr = getattr(optimizer, "learning_rate", None)
    boundaries = getattr(lr, "boundaries", None)
    if boundaries is None or len(boundaries) == 0:
        return []
    return sorted({int(b) for b in boundaries if int(b) > 0})


class SnufferCallback(keras.callbacks.Callback, Tracking):
    """Stops ``model.fit`` once the rest of the run is not expected to pay for its energy.

    Args:
        monitor: the epoch-end metric in ``logs`` (default ``val_loss``).
        mode: ``"min"`` or ``"max"`` (default from the name: loss-like names are ``"min"``).
        name: the run's name (default ``"keras"``).
        out_dir: the run directory (default ``runs/<name>-<time>``, as the Rust side).
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
        name: str = "keras",
        out_dir: Optional[str] = None,
        policy: Any = "marginal",
        schedule: Optional[Iterable[int]] = None,
        **run_kwargs: Any,
    ) -> None:
        super().__init__()
        self.monitor = monitor
        self.mode = mode_for(monitor, mode)
        self._init_tracking(name, out_dir, policy, schedule, run_kwargs)
        self._steps = 0

    def on_train_begin(self, logs: Any = None) -> None:
        if self.run is not None:
            return
        epochs = self.params.get("epochs") if self.params else None
        steps = self.params.get("steps") if self.params else None
        planned = int(epochs) * int(steps) if epochs and steps else None
        opt = getattr(self.model, "optimizer", None)
        self.schedule = sorted(set(optimizer_change_points(opt) + self.extra_schedule))
        kw = run_kwargs(self.monitor, self.mode, planned, self.schedule, self.policy, self.run_kwargs)
        if self.out_dir is not None:
            kw.setdefault("out_dir", self.out_dir)
        self._open(self.name, kw)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        if self.run is not None:
            self.run.step()
            self._steps += 1

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        if self.run is None:
            return
        logs = logs or {}
        if self.monitor not in logs:
            raise KeyError(
                f"snuffer: the epoch's logs have no {self.monitor!r} (they have {sorted(logs)}); "
                "pass validation_data to fit, or SnufferCallback(monitor=...)"
            )
        if self._decide(float(logs[self.monitor]), self._steps):
            self.model.stop_training = True

    def on_train_end(self, logs: Any = None) -> None:
        self._finish()
