"""What the framework callbacks share: the run's settings, the metric's direction, and the
bookkeeping of one run (open, decide, finish)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from .distributed import make_run


def mode_for(metric: str, mode: Optional[str]) -> str:
    """``mode`` as given, else ``"min"`` for a loss-like name (loss, error, perplexity), else ``"max"``."""
    if mode is not None:
        if mode not in ("min", "max"):
            raise ValueError(f'mode {mode!r}: expected "max" (higher is better) or "min" (lower is better)')
        return mode
    low = metric.lower()
    if any(k in low for k in ("loss", "err", "perplexity", "ppl", "mse", "mae", "rmse")):
        return "min"
    return "max"


def run_kwargs(
    metric: str,
    mode: str,
    planned_steps: Optional[int],
    schedule: Optional[list],
    policy: Any,
    extra: Dict[str, Any],
) -> Dict[str, Any]:
    kw: Dict[str, Any] = dict(extra)
    kw["metric"] = metric
    kw["mode"] = mode
    if planned_steps is not None and planned_steps > 0:
        kw["planned_steps"] = int(planned_steps)
    if schedule:
        kw["schedule"] = sorted({int(s) for s in schedule if s is not None and s > 0})
    kw["policy"] = [policy] if isinstance(policy, str) else list(policy)
    return kw


class Tracking:
    """The state and steps every framework callback shares (a mixin, no ``__init__`` of its
    own, so it sits beside the framework's ``Callback`` base).

    After training, ``run_dir``, ``decision`` (the last decision), ``summary`` (the summary
    dict; None on ranks other than 0), ``schedule`` and ``stopped_at`` tell what happened.
    """

    def _init_tracking(
        self,
        name: Any,
        out_dir: Optional[str],
        policy: Any,
        schedule: Optional[Iterable[int]],
        extra: Dict[str, Any],
    ) -> None:
        self.name = name
        self.out_dir = out_dir
        self.policy = policy
        self.extra_schedule = list(schedule or [])
        self.run_kwargs = extra
        self.run: Any = None
        self.run_dir: Optional[str] = None
        self.decision: Any = None
        self.summary: Optional[dict] = None
        self.schedule: List[int] = []
        self.stopped_at: Optional[int] = None

    def _open(self, name: str, kw: Dict[str, Any]) -> None:
        """Start the run (``snuffer.distributed.make_run``: one run per job under torchrun)."""
        self.run = make_run(name, **kw)
        self.run_dir = str(self.run.dir)

    def _decide(self, value: float, step: int) -> bool:
        """Evaluate ``value``; True when the policy says stop (the first such step is kept)."""
        self.decision = self.run.eval(float(value))
        if self.decision.should_stop and self.stopped_at is None:
            self.stopped_at = int(step)
        return bool(self.decision.should_stop)

    def _finish(self) -> None:
        if self.run is not None and self.summary is None:
            self.summary = self.run.finish()
