"""What the framework callbacks share: the run's settings and the metric's direction."""

from __future__ import annotations

from typing import Any, Dict, Optional


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
