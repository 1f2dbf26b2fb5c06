"""One stop decision across the ranks of a torch.distributed job.

Every rank meters its own energy: local rank 0 of each node reads the node-wide sources
(RAPL package counters, every NVML GPU) or, where there are none, the labelled CPU-time
estimate of its own process tree; the other local ranks read only their own process tree's
estimate (a node's counters are read once). At each evaluation the ranks' cumulative
readings are summed into rank 0's run with one ``all_reduce`` (each rank fills its own slice
of one vector), rank 0 asks the stop policy, and its decision is broadcast, so every rank
stops at the same step. Rank 0 alone writes the run directory (one per job); each rank's
domains keep their own names there (``rank1@node-b:cpu-estimate``), with their provenance,
so the per-node energy is in ``steps.jsonl`` and ``summary.json``, and ``ranks.json`` lists
every rank's host, local rank and final energy.

Use it through :func:`make_run` (what the callbacks do): a plain :class:`snuffer.Run` in a
single process, a :class:`DistributedRun` when a process group with more than one rank is
initialised. Under ``torchrun`` (``LOCAL_RANK``) and SLURM (``SLURM_LOCALID``) the local rank
is read from the environment.

The metric passed to :meth:`DistributedRun.eval` is rank 0's (frameworks give every rank the
same, reduced, validation metric).
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from typing import Any, Optional

from ._native import NodeMeter, Run

__all__ = ["Decision", "DistributedRun", "make_run", "local_rank"]


@dataclasses.dataclass(frozen=True)
class Decision:
    """The decision every rank receives (the same fields as :class:`snuffer.Decision`)."""

    should_stop: bool
    reason: Optional[str]
    policy: Optional[str]
    evidence: Optional[dict]
    new_best: bool
    step: int
    metric: float

    def __bool__(self) -> bool:
        return self.should_stop


def local_rank() -> int:
    """This process's rank on its node: ``LOCAL_RANK`` (torchrun), ``SLURM_LOCALID`` (srun), else 0."""
    for var in ("LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK"):
        v = os.environ.get(var)
        if v is not None and v.strip().isdigit():
            return int(v)
    return 0


def _world(group: Any = None) -> tuple[int, int]:
    try:
        import torch.distributed as dist
    except ImportError:
        return 0, 1
    if not (dist.is_available() and dist.is_initialized()):
        return 0, 1
    return dist.get_rank(group), dist.get_world_size(group)


def make_run(name: str, *, group: Any = None, **kwargs: Any):
    """A :class:`snuffer.Run`, or a :class:`DistributedRun` when torch.distributed is
    initialised with more than one rank. Keyword arguments are :class:`snuffer.Run`'s."""
    _, world = _world(group)
    if world > 1:
        return DistributedRun(name, group=group, **kwargs)
    return Run(name, **kwargs)


class DistributedRun:
    """A run shared by the ranks of a torch.distributed job: the same methods as
    :class:`snuffer.Run` (``step``, ``record_loss``, ``eval``, ``finish``, context manager).

    Every rank must call ``eval`` and ``finish`` (they are collective operations, like
    ``all_reduce``); ``step`` and ``record_loss`` are local. Keyword arguments are
    :class:`snuffer.Run`'s; ``group`` is the process group (default: the world).
    """

    def __init__(self, name: str, *, group: Any = None, **kwargs: Any) -> None:
        import torch
        import torch.distributed as dist

        self._dist = dist
        self._torch = torch
        self._group = group
        self.rank, self.world_size = _world(group)
        self.local_rank = local_rank()
        self.host = socket.gethostname()
        prefix = f"rank{self.rank}@{self.host}:"
        per_process_only = self.local_rank != 0
        power_w = kwargs.get("power_w")
        self._meter = None
        if self.rank != 0:
            self._meter = NodeMeter(per_process_only=per_process_only, power_w=power_w, prefix=prefix)
            mine = (self.host, self.local_rank, self._meter.domains())
        else:
            mine = (self.host, self.local_rank, None)
        specs: list = [None] * self.world_size
        dist.all_gather_object(specs, mine, group=group)
        self._specs = specs
        # The slices of the energy vector: rank r's domains, r ≥ 1 (rank 0's run reads its own).
        self._slices = []
        at = 0
        for r in range(self.world_size):
            n = 0 if r == 0 else len(specs[r][2])
            self._slices.append((at, at + n))
            at += n
        self._width = at
        self._run = None
        err = None
        if self.rank == 0:
            try:
                self._run = Run(
                    name,
                    meter_prefix=prefix,
                    per_process_only=per_process_only,
                    peers=[specs[r][2] for r in range(1, self.world_size)],
                    **kwargs,
                )
                info = [str(self._run.dir), None]
            except Exception as e:  # every rank must learn of it, or the others hang
                err = e
                info = [None, f"{type(e).__name__}: {e}"]
        else:
            info = [None, None]
        dist.broadcast_object_list(info, src=self._src(), group=group)
        if info[1] is not None:
            if err is not None:
                raise err
            raise RuntimeError(f"snuffer: rank 0 could not start the run: {info[1]}")
        self.dir = info[0]
        self._steps = 0
        self._last: Optional[list] = None
        self._finished = False
        self._summary = None

    def _src(self) -> int:
        if self._group is None:
            return 0
        return self._dist.get_global_rank(self._group, 0)

    def _gather_energy(self) -> list:
        """All-reduce every rank's cumulative joules; rank 0 hands them to its run."""
        vec = self._torch.zeros(max(self._width, 1), dtype=self._torch.float64)
        if self._meter is not None:
            lo, hi = self._slices[self.rank]
            vec[lo:hi] = self._torch.tensor(self._meter.read(), dtype=self._torch.float64)
        self._dist.all_reduce(vec, op=self._dist.ReduceOp.SUM, group=self._group)
        values = vec.tolist()
        if self._run is not None:
            for r in range(1, self.world_size):
                lo, hi = self._slices[r]
                self._run.set_peer_energy(r - 1, values[lo:hi])
        self._last = values
        return values

    def step(self) -> None:
        """Stamp one optimizer step (on rank 0 the run's clock read; elsewhere a counter)."""
        if self._run is not None:
            self._run.step()
        else:
            self._steps += 1

    def record_loss(self, loss: float) -> None:
        """Record the latest training loss (rank 0's counts)."""
        if self._run is not None:
            self._run.record_loss(loss)

    def eval(self, value: float) -> Decision:
        """Sum the ranks' energy, let rank 0 decide on ``value``, broadcast the decision.
        Collective: every rank calls it at the same evaluation."""
        self._gather_energy()
        out: list = [None]
        if self._run is not None:
            try:
                d = self._run.eval(value)
                out[0] = ("ok", (d.should_stop, d.reason, d.policy, d.evidence, d.new_best, d.step, d.metric))
            except Exception as e:
                out[0] = ("error", f"{type(e).__name__}: {e}")
        self._dist.broadcast_object_list(out, src=self._src(), group=self._group)
        kind, payload = out[0]
        if kind == "error":
            raise RuntimeError(f"snuffer (rank 0): {payload}")
        return Decision(*payload)

    def finish(self) -> Optional[dict]:
        """Last energy reading of every rank, then rank 0 writes ``summary.json``,
        ``emissions.csv`` and ``ranks.json``. Collective. Returns the summary (rank 0) or None."""
        if self._finished:
            return self._summary
        self._finished = True
        values = self._gather_energy()
        if self._run is None:
            return None
        summary = self._run.finish()
        ranks = []
        for r, (host, lr, domains) in enumerate(self._specs):
            if r == 0:
                own = [d for d in summary.get("domains", []) if str(d.get("name", "")).startswith("rank0@")]
                joules = sum(float(d["joules"]) for d in own)
                names = [d["name"] for d in own]
            else:
                lo, hi = self._slices[r]
                joules = sum(values[lo:hi])
                names = [d[0] for d in domains]
            ranks.append({"rank": r, "host": host, "local_rank": lr, "energy_j": joules, "domains": names})
        nodes: dict = {}
        for r in ranks:
            nodes[r["host"]] = nodes.get(r["host"], 0.0) + r["energy_j"]
        with open(os.path.join(self.dir, "ranks.json.tmp"), "w") as f:
            json.dump({"world_size": self.world_size, "ranks": ranks, "nodes_energy_j": nodes}, f, indent=1)
        os.replace(os.path.join(self.dir, "ranks.json.tmp"), os.path.join(self.dir, "ranks.json"))
        self._summary = summary
        return summary

    @property
    def steps(self) -> int:
        return self._run.steps if self._run is not None else self._steps

    @property
    def best(self):
        return self._run.best if self._run is not None else None

    def __enter__(self) -> "DistributedRun":
        return self

    def __exit__(self, *exc: Any) -> bool:
        if not self._finished:
            self.finish()
        return False
