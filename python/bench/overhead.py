"""Overhead of Snuffer per training step, against the same loop without it.

Two loops, each timed with and without Snuffer, in alternating order, several times; the
ratio is median(with) / median(without):

* ``torch``: a small MLP's optimizer steps (forward, backward, AdamW) on CPU, with
  ``run.step()`` after each and ``run.eval()`` every ``--eval-every`` steps (the evaluation
  itself is not timed in either loop: only Snuffer's share of it);
* ``hf``: a ``transformers.Trainer`` fine-tune of a tiny BERT, with and without
  ``snuffer.hf.SnufferCallback`` (no evaluation in either, so the callback's per-step cost
  is what is compared).

    python python/bench/overhead.py [--steps 2000] [--repeats 5] [--skip-hf]

Goal: ratio ≤ 1.01.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import torch

import snuffer

torch.set_num_threads(1)


def torch_loop(steps: int, eval_every: int, tracked: bool, out: str) -> float:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(steps, 32, 64)
    y = torch.randint(0, 10, (steps, 32))
    run = None
    if tracked:
        # The default policy (marginal gain, forecast refits at every evaluation): its cost is
        # part of the overhead.
        run = snuffer.Run("bench", out_dir=out, planned_steps=steps, metric="val_loss", mode="min")
    t0 = time.perf_counter()
    for i in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if run is not None:
            run.step()
            if (i + 1) % eval_every == 0:
                run.eval(float(loss))
    elapsed = time.perf_counter() - t0
    if run is not None:
        run.finish()
    return elapsed


def hf_loop(steps: int, tracked: bool, out: str) -> float:
    import logging

    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=16, num_labels=2)
    x = torch.randint(0, 32, (steps * 16, 8))
    y = (x[:, 0] < 16).long()

    class DS(torch.utils.data.Dataset):
        def __len__(self):
            return len(y)

        def __getitem__(self, i):
            return {"input_ids": x[i], "labels": y[i]}

    args = TrainingArguments(output_dir=out, max_steps=steps, per_device_train_batch_size=16,
                             save_strategy="no", report_to=[], use_cpu=True, disable_tqdm=True,
                             logging_strategy="no", eval_strategy="no", seed=0)
    callbacks = [snuffer.hf.SnufferCallback(metric="loss")] if tracked else []
    trainer = Trainer(model=BertForSequenceClassification(cfg), args=args, train_dataset=DS(),
                      callbacks=callbacks)
    t0 = time.perf_counter()
    trainer.train()
    return time.perf_counter() - t0


def compare(name, fn, repeats):
    with_, without = [], []
    fn(False)  # warm-up: first-run costs (allocator, imports) fall on neither side
    for r in range(repeats):
        order = (True, False) if r % 2 == 0 else (False, True)
        for tracked in order:
            (with_ if tracked else without).append(fn(tracked))
    ratio = statistics.median(with_) / statistics.median(without)
    print(f"{name}: without {statistics.median(without):.3f} s, with {statistics.median(with_):.3f} s "
          f"(medians of {repeats}); ratio {ratio:.4f}")
    return ratio


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--hf-steps", type=int, default=300)
    ap.add_argument("--skip-hf", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    n = [0]

    def out():
        n[0] += 1
        return os.path.join(tmp, f"r{n[0]}")

    ratios = [compare(f"torch loop, {a.steps} steps, eval every {a.eval_every}",
                      lambda t: torch_loop(a.steps, a.eval_every, t, out()), a.repeats)]
    if not a.skip_hf:
        import snuffer.hf  # noqa: F401

        ratios.append(compare(f"HF Trainer, {a.hf_steps} steps", lambda t: hf_loop(a.hf_steps, t, out()),
                              a.repeats))
    print("goal: ratio <= 1.01:", "met" if max(ratios) <= 1.01 else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
