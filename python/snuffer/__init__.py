"""Snuffer from Python: stop training runs that have stopped paying for their energy.

The Rust core (meters, forecaster, stop policies, run directory) as a Python extension,
plus one-line callbacks for the Hugging Face ``Trainer`` (:mod:`snuffer.hf`), Lightning
(:mod:`snuffer.lightning`) and Keras 3 (:mod:`snuffer.keras`), and one stop decision across
the ranks of a torch.distributed job (:mod:`snuffer.distributed`).

>>> import snuffer
>>> with snuffer.Run("demo", out_dir=tmp, planned_steps=1000, metric="val_acc",
...                  tau_relative=0.3) as run:                   # doctest: +SKIP
...     for step in range(1, 1001):
...         train_step()
...         run.step()
...         if step % 100 == 0 and run.eval(validate()).should_stop:
...             break

The run directory holds the same files as a Rust run (``steps.jsonl``, ``summary.json``,
``emissions.csv``): ``snuffer report DIR`` renders it.
"""

from ._native import Decision, NodeMeter, Run, SnufferError, __version__
from .distributed import DistributedRun, make_run

__all__ = [
    "Decision",
    "DistributedRun",
    "NodeMeter",
    "Run",
    "SnufferError",
    "__version__",
    "make_run",
]
