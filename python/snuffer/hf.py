"""Snuffer for the Hugging Face ``transformers.Trainer``: one callback.

>>> from snuffer.hf import SnufferCallback
>>> trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=val,
...                   callbacks=[SnufferCallback(tau_relative=0.3)])   # doctest: +SKIP

At ``on_train_begin`` it reads the plan (``state.max_steps``) and the learning-rate schedule
(``lr_scheduler_type``, the warm-up, ``lr_scheduler_kwargs``, or a ``StepLR``/``MultiStepLR``
you passed in ``optimizers``) and hands its change points to the stop rule, so a plateau
before a planned decay is not taken for the end (:func:`schedule_change_points`). It stamps
every optimizer step (``on_step_end``), records the training loss (``on_log``), and at every
evaluation (``on_evaluate``) passes the monitored metric (``eval_loss`` unless
``metric_for_best_model`` or ``metric`` says otherwise) to the run; when the policy says
stop it sets ``control.should_training_stop``, the Trainer's own switch.

Best weights: left to the Trainer. With ``load_best_model_at_end=True`` (and the same
``metric_for_best_model``, saving at every evaluation) the Trainer reloads the best
checkpoint when training ends, stopped early or not.

Under ``torchrun`` every rank runs the callback; one decides and all stop at the same step
(see :mod:`snuffer.distributed`).
"""

from __future__ import annotations

import math
import os
from typing import Any, Iterable, List, Optional

from transformers import TrainerCallback

from ._common import Tracking, mode_for, run_kwargs

__all__ = ["SnufferCallback", "schedule_change_points"]


def _warmup_steps(args: Any, max_steps: int) -> int:
    get = getattr(args, "get_warmup_steps", None)
    if callable(get):
        try:
            return int(get(max_steps))
        except Exception:
            pass
    w = getattr(args, "warmup_steps", 0) or 0
    if 0 < w < 1:
        return int(math.ceil(w * max_steps))
    ratio = getattr(args, "warmup_ratio", 0) or 0
    return int(w) if w >= 1 else int(math.ceil(ratio * max_steps))


def _scheduler_milestones(scheduler: Any, max_steps: int) -> List[int]:
    """Change points of a torch scheduler stepped once per optimizer step (StepLR, MultiStepLR)."""
    if scheduler is None:
        return []
    name = type(scheduler).__name__
    if name == "MultiStepLR":
        return sorted(int(m) for m in getattr(scheduler, "milestones", {}))
    if name == "StepLR":
        size = int(getattr(scheduler, "step_size", 0) or 0)
        return list(range(size, max_steps, size)) if size > 0 else []
    return []


def schedule_change_points(args: Any, max_steps: int, lr_scheduler: Any = None) -> List[int]:
    """Steps at which the Trainer's learning rate changes course.

    * the end of the warm-up (``warmup_steps``/``warmup_ratio``), for every scheduler type;
    * ``cosine_with_restarts``: each restart (``num_cycles`` in ``lr_scheduler_kwargs``);
    * ``warmup_stable_decay``: the start of the decay (``num_stable_steps``, else
      ``max_steps − num_decay_steps``);
    * a ``StepLR`` or ``MultiStepLR`` passed to the Trainer: its milestones.

    ``linear``, ``cosine``, ``polynomial`` and ``inverse_sqrt`` decay smoothly from the end of
    the warm-up (no other change point); ``reduce_lr_on_plateau`` follows the metric and
    cannot be known ahead.
    """
    if max_steps <= 0:
        return []
    kind = getattr(args, "lr_scheduler_type", "linear")
    kind = getattr(kind, "value", kind)
    kwargs = dict(getattr(args, "lr_scheduler_kwargs", None) or {})
    warm = _warmup_steps(args, max_steps)
    points = [warm] if warm > 0 else []
    if kind == "cosine_with_restarts":
        cycles = int(kwargs.get("num_cycles", 1) or 1)
        span = max_steps - warm
        points += [warm + round(k * span / cycles) for k in range(1, cycles)]
    elif kind == "warmup_stable_decay":
        stable = kwargs.get("num_stable_steps")
        decay = kwargs.get("num_decay_steps")
        if stable is not None:
            points.append(warm + int(stable))
        elif decay is not None:
            points.append(max_steps - int(decay))
    points += _scheduler_milestones(lr_scheduler, max_steps)
    return sorted({p for p in points if 0 < p < max_steps})


class SnufferCallback(TrainerCallback, Tracking):
    """Stops a ``transformers.Trainer`` run once the rest of it is not expected to pay for
    its energy (Snuffer's marginal-gain rule; any :class:`snuffer.Run` policy).

    Args:
        metric: the evaluation metric to monitor, as in ``metrics`` (``eval_`` is added when
            missing). Default: ``args.metric_for_best_model``, else ``eval_loss``.
        mode: ``"min"`` or ``"max"``; default from ``args.greater_is_better``, else from the
            name (loss-like names are ``"min"``).
        name: the run's name (default ``args.run_name``, else ``"hf-trainer"``).
        out_dir: the run directory (default ``<args.output_dir>/snuffer``).
        policy: ``"marginal"`` (default), ``"patience"``, ``"target"``, ``"budget"``,
            ``"none"`` or a list of them (any of them stops).
        schedule: extra learning-rate change points (steps), added to those read from the
            arguments.
        **run_kwargs: any other :class:`snuffer.Run` keyword (``tau``, ``tau_relative``,
            ``patience``, ``target``, ``max_kwh``, ``power_w``, ``progress``, ...).

    After training, ``callback.run_dir``, ``callback.decision`` (the last decision) and
    ``callback.summary`` (the summary dict; None on ranks other than 0) tell what happened.
    """

    def __init__(
        self,
        metric: Optional[str] = None,
        mode: Optional[str] = None,
        *,
        name: Optional[str] = None,
        out_dir: Optional[str] = None,
        policy: Any = "marginal",
        schedule: Optional[Iterable[int]] = None,
        **run_kwargs: Any,
    ) -> None:
        self.metric = metric
        self.mode = mode
        self._init_tracking(name, out_dir, policy, schedule, run_kwargs)

    def _metric_and_mode(self, args: Any) -> tuple:
        metric = self.metric or getattr(args, "metric_for_best_model", None) or "eval_loss"
        if not metric.startswith("eval_"):
            metric = "eval_" + metric
        mode = self.mode
        if mode is None and self.metric is None and getattr(args, "metric_for_best_model", None):
            gib = getattr(args, "greater_is_better", None)
            if gib is not None:
                mode = "max" if gib else "min"
        return metric, mode_for(metric, mode)

    def on_train_begin(self, args, state, control, **kwargs):
        if self.run is not None:
            return
        metric, mode = self._metric_and_mode(args)
        self.metric, self.mode = metric, mode
        max_steps = int(state.max_steps or 0)
        self.schedule = sorted(
            set(schedule_change_points(args, max_steps, kwargs.get("lr_scheduler")) + self.extra_schedule)
        )
        name = self.name or getattr(args, "run_name", None) or "hf-trainer"
        name = os.path.basename(str(name).rstrip("/")) or "hf-trainer"
        out_dir = self.out_dir or os.path.join(args.output_dir, "snuffer")
        kw = run_kwargs(metric, mode, max_steps or None, self.schedule, self.policy, self.run_kwargs)
        kw.setdefault("out_dir", out_dir)
        self._open(name, kw)

    def on_step_end(self, args, state, control, **kwargs):
        if self.run is not None:
            self.run.step()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.run is not None and logs and "loss" in logs:
            try:
                self.run.record_loss(float(logs["loss"]))
            except (TypeError, ValueError):
                pass

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if self.run is None or not metrics:
            return
        if self.metric not in metrics:
            raise KeyError(
                f"snuffer: the evaluation metrics have no {self.metric!r} (they have "
                f"{sorted(metrics)}); pass SnufferCallback(metric=...) or set metric_for_best_model"
            )
        if self._decide(float(metrics[self.metric]), state.global_step):
            control.should_training_stop = True

    def on_train_end(self, args, state, control, **kwargs):
        self._finish()
