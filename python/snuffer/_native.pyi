"""Type stubs of the Rust extension ``snuffer._native`` (crates/snuffer-py)."""

import pathlib
from os import PathLike
from types import TracebackType
from typing import Any, Optional, Sequence, Tuple, Type, Union

__version__: str

class SnufferError(Exception):
    """An error from Snuffer's Rust core; the message is the Rust error's, naming the input
    and the fix. Invalid settings raise ``ValueError`` instead."""

DomainSpec = Tuple[str, str, Optional[str], float]
"""``(name, provenance, model or None, relative uncertainty)``; provenance is ``"counter"``,
``"integrated_power"`` or ``"estimated"``."""

class Decision:
    """One evaluation's decision."""

    should_stop: bool
    """Whether the stop policy says stop."""
    reason: Optional[str]
    """The stop sentence (what stopped the run and why), or None."""
    policy: Optional[str]
    """The policy that stopped the run: ``marginal_gain``, ``patience``, ``target``,
    ``divergence``, ``budget`` or ``sweep``; None on a continue."""
    evidence: Optional[dict]
    """The stop's typed evidence (``kind`` plus its numbers, as in ``steps.jsonl``), or None."""
    new_best: bool
    """Whether this evaluation is the best so far (save the weights)."""
    step: int
    """Steps done at this evaluation."""
    metric: float
    """The metric as given."""
    def __bool__(self) -> bool: ...

class NodeMeter:
    """This process's energy meters (used per rank by :mod:`snuffer.distributed`)."""

    def __init__(
        self, *, per_process_only: bool = False, power_w: Optional[float] = None, prefix: str = ""
    ) -> None: ...
    def domains(self) -> list[DomainSpec]:
        """The domains in reading order."""
    @property
    def skipped(self) -> list[Tuple[str, str]]:
        """Sources not used: ``[(source, reason)]``."""
    def read(self) -> list[float]:
        """Cumulative joules of every domain, in the order of :meth:`domains`."""

class Run:
    """A tracked training run: the Rust core's ``snuffer::Run``.

    Args:
        name: the run's name (``runs/<name>-<UTC time>`` unless ``out_dir`` is given).
        out_dir: the run directory (created; earlier ``summary.json``/``emissions.csv`` there
            are replaced).
        sweep: a sweep directory to join (runs of one sweep learn from each other).
        planned_steps: the planned number of optimizer steps (the marginal rule needs it to
            weigh the rest of the run).
        metric: the monitored metric's name.
        mode: ``"max"`` (higher is better, e.g. accuracy) or ``"min"`` (e.g. a loss).
        bounds: ``(lower, upper)`` of the metric, each or both None (default: inferred from
            the name and values).
        policy: ``"marginal"`` (default), ``"patience"``, ``"target"``, ``"budget"``,
            ``"none"``, or a list of them; any of them stops the run, and a non-finite metric
            or training loss always does.
        tau: τ in metric units per kWh (marginal rule). Give this or ``tau_relative``.
        tau_relative: τ as a share of the gain so far per energy so far (default 0.3).
        schedule: steps at which the learning rate is scheduled to change (a plateau before
            a planned decay is not the end).
        warmup_fraction: no marginal stop before this share of the planned energy (0.15).
        min_evaluations: no marginal stop before this many evaluations (5).
        consecutive: agreeing marginal checks needed to stop (2).
        patience: evaluations without improvement (policy ``"patience"``).
        min_delta: the improvement that counts (policy ``"patience"``).
        target: the value to stop at (policy ``"target"``).
        max_kwh: the energy budget (policy ``"budget"``).
        power_w: meter a constant power instead of the machine's sources (labelled as an
            estimate).
        progress: ``"quiet"`` (default), ``"auto"``, ``"bar"`` or ``"plain"`` (on stderr).
        project: CodeCarbon's ``project_name`` in ``emissions.csv``.
        log_every: a step line every N steps (default: a thousandth of the plan).
        sample_interval_s: the meters' polling interval (0.5 s; the Rust side's default is
            0.1 s, but the estimate over the process tree reads /proc at each poll: about 2 %
            of a core at 0.1 s with 100 processes). Evaluations take a fresh reading anyway.
        emissions: whether ``finish()`` writes ``emissions.csv``.

    Raises:
        ValueError: a setting out of its domain (the message names it and what is allowed).
        SnufferError: the run directory or the meters could not be set up.
    """

    def __init__(
        self,
        name: str,
        *,
        out_dir: Union[str, PathLike[str], None] = None,
        sweep: Union[str, PathLike[str], None] = None,
        planned_steps: Optional[int] = None,
        metric: str = "metric",
        mode: str = "max",
        bounds: Optional[Tuple[Optional[float], Optional[float]]] = None,
        policy: Union[str, Sequence[str]] = "marginal",
        tau: Optional[float] = None,
        tau_relative: Optional[float] = None,
        schedule: Optional[Sequence[int]] = None,
        warmup_fraction: Optional[float] = None,
        min_evaluations: Optional[int] = None,
        consecutive: Optional[int] = None,
        patience: Optional[int] = None,
        min_delta: float = 0.0,
        target: Optional[float] = None,
        max_kwh: Optional[float] = None,
        power_w: Optional[float] = None,
        progress: str = "quiet",
        project: Optional[str] = None,
        log_every: Optional[int] = None,
        sample_interval_s: Optional[float] = None,
        emissions: bool = True,
        meter_prefix: str = "",
        per_process_only: bool = False,
        peers: Sequence[Sequence[DomainSpec]] = (),
    ) -> None: ...
    def step(self) -> None:
        """Stamp one optimizer step (a clock read and a counter)."""
    def record_loss(self, loss: float) -> None:
        """Record the latest training loss (a NaN or infinite loss stops the run)."""
    def eval(self, value: float) -> Decision:
        """Record an evaluation of the metric and ask the stop policy."""
    def finish(self) -> dict:
        """Write ``summary.json`` and ``emissions.csv``; return the summary."""
    def set_peer_energy(self, peer: int, joules: Sequence[float]) -> None:
        """Another rank's cumulative joules (used by :mod:`snuffer.distributed`)."""
    def __enter__(self) -> "Run": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...
    @property
    def dir(self) -> "pathlib.Path":
        """The run directory."""
    @property
    def name(self) -> str: ...
    @property
    def steps(self) -> Optional[int]:
        """Steps stamped so far (None once finished)."""
    @property
    def best(self) -> Optional[Tuple[int, float]]:
        """The best evaluation so far: ``(step, value)``."""
    @property
    def finished(self) -> bool: ...
    @property
    def energy_j(self) -> Optional[float]:
        """Energy so far in joules (None once finished: see the summary)."""
    @property
    def skipped(self) -> list[Tuple[str, str]]:
        """Energy sources not used: ``[(source, reason)]``."""
