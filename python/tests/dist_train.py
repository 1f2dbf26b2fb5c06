"""One rank of the two-rank test (test_distributed.py runs it under torchrun, gloo on CPU).

A tiny transformer under DistributedDataParallel on synthetic data; every 10 steps the
ranks' validation accuracies are averaged (all_reduce) and handed to snuffer's run; every
rank writes what it saw to OUT/rank<r>.json.
"""

import json
import os
import sys

import torch
import torch.distributed as dist

import snuffer

sys.path.insert(0, os.path.dirname(__file__))
from conftest import noisy_parity  # noqa: E402

MAX_STEPS = 400


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(32, 16)
        self.pos = torch.nn.Parameter(torch.zeros(8, 16))
        layer = torch.nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, dropout=0.1, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.head = torch.nn.Linear(16, 2)

    def forward(self, x):
        return self.head(self.encoder(self.emb(x) + self.pos)[:, 0])


def main(out: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(Model())
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    x, y = noisy_parity(4000, 1 + rank)  # each rank its own shard
    xv, yv = noisy_parity(256, 100 + rank)
    run = snuffer.make_run("two-ranks", out_dir=os.path.join(out, "run"), planned_steps=MAX_STEPS,
                           metric="val_acc", tau_relative=0.5, sample_interval_s=0.05)
    assert isinstance(run, snuffer.DistributedRun)
    stopped = None
    g = torch.Generator().manual_seed(rank)
    for step in range(1, MAX_STEPS + 1):
        idx = torch.randint(0, len(y), (16,), generator=g)
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.step()
        if step % 10 == 0:
            model.eval()
            with torch.no_grad():
                acc = (model(xv).argmax(-1) == yv).float().mean()
            model.train()
            dist.all_reduce(acc, op=dist.ReduceOp.SUM)
            decision = run.eval(float(acc) / world)
            if decision.should_stop:
                stopped = step
                if rank == 0:
                    print(f"rank {rank} stop line: {decision.reason}", flush=True)
                break
    summary = run.finish()
    mine = {
        "rank": rank,
        "stopped_at": stopped,
        "last_step": step,
        "dir": run.dir,
        # This rank's own final cumulative joules, as it read them (rank 0's are in its run).
        "own_energy_j": None if run._meter is None else sum(run._last[slice(*run._slices[rank])]),
        "summary_energy_j": None if summary is None else summary["energy_j"],
    }
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(mine, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
