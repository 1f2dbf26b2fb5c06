"""Overhead of Snuffer per training step, against the same loop without it.

Two loops, each timed with and without Snuffer, in alternating order, several times; the
ratio is median(with) / median(without), in wall time and in the process's CPU time (which
counts the meters' sampling thread, and is less disturbed by other processes on a shared
machine):

* ``torch``: a small MLP's optimizer steps (forward, backward, AdamW) on CPU, with
  ``run.step()`` after each and ``run.eval()`` every ``--eval-every`` steps (the evaluation
  itself is not timed in either loop: only Snuffer's share of it);
* ``hf``: a ``transformers.Trainer`` fine-tune of a tiny BERT, with and without
  ``snuffer.hf.SnufferCallback`` (no evaluation in either, so the callback's per-step cost
  is what is compared).

    python python/bench/overhead.py [--steps 2000] [--eval-every 1000] [--repeats 5] [--skip-hf]

Snuffer's own costs are also measured one by one (``step()`` per call, ``eval()`` per
evaluation, the meters' sampling thread per second) and added up per step of the same loop:
on a shared machine the whole-loop timings move by ±20 % between repeats, far more than the
1 % being measured. Goal: ratio ≤ 1.01. An evaluation costs a forecast refit (a few ms):
it is paid per evaluation, not per step, so evaluate as often as you would anyway.
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
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if run is not None:
            run.step()
            if (i + 1) % eval_every == 0:
                run.eval(float(loss))
    elapsed = (time.perf_counter() - t0, time.process_time() - c0)
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
    t0, c0 = time.perf_counter(), time.process_time()
    trainer.train()
    return time.perf_counter() - t0, time.process_time() - c0


def components(step_s: float, eval_every: int, out: str) -> float:
    """Snuffer's own costs, each measured alone over many repetitions (robust on a shared
    machine, where whole-loop timings move by ±20 %), and the per-step ratio they add up to."""
    run = snuffer.Run("parts", out_dir=out, planned_steps=100_000, metric="val_loss", mode="min")
    calls = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(20_000):
            run.step()
        calls.append((time.perf_counter() - t) / 20_000)
    step_cost = statistics.median(calls)
    evals = []
    for k in range(20):
        t = time.process_time()
        run.eval(1.0 / (k + 1) ** 0.5)
        evals.append(time.process_time() - t)
    eval_cost = statistics.median(evals)
    c0 = time.process_time()
    time.sleep(3.0)
    sampler_share = (time.process_time() - c0) / 3.0  # the meters' thread, per second
    run.finish()
    ratio = 1.0 + (step_cost + sampler_share * step_s + eval_cost / eval_every) / step_s
    print(f"components: step() {step_cost * 1e9:.0f} ns per call; eval() {eval_cost * 1e3:.2f} ms CPU per "
          f"evaluation (a forecast refit); meters' thread {100 * sampler_share:.2f} % of a core; on a "
          f"{step_s * 1e3:.2f} ms step with an evaluation every {eval_every} steps: ratio {ratio:.4f}")
    return ratio


def compare(name, fn, repeats):
    with_, without = [], []
    fn(False)  # warm-up: first-run costs (allocator, imports) fall on neither side
    for r in range(repeats):
        order = (True, False) if r % 2 == 0 else (False, True)
        for tracked in order:
            (with_ if tracked else without).append(fn(tracked))
    ratios = []
    for k, what in enumerate(("wall time", "CPU time (all threads: the sampler's too)")):
        w = statistics.median(t[k] for t in with_)
        wo = statistics.median(t[k] for t in without)
        ratios.append(w / wo)
        best = min(t[k] for t in with_) / min(t[k] for t in without)
        print(f"{name}, {what}: without {wo:.3f} s, with {w:.3f} s (medians of {repeats}); "
              f"ratio {w / wo:.4f} (of the fastest repeats, the least disturbed: {best:.4f})")
    return ratios[1]  # CPU time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--hf-steps", type=int, default=300)
    ap.add_argument("--skip-hf", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    n = [0]

    def out():
        n[0] += 1
        return os.path.join(tmp, f"r{n[0]}")

    base = statistics.median(torch_loop(a.steps, a.eval_every, False, out())[1] for _ in range(3))
    ratios = [components(base / a.steps, a.eval_every, out())]
    compare(f"torch loop, {a.steps} steps, eval every {a.eval_every}",
            lambda t: torch_loop(a.steps, a.eval_every, t, out()), a.repeats)
    if not a.skip_hf:
        import snuffer.hf  # noqa: F401

        cb = snuffer.hf.SnufferCallback(metric="loss")
        cb.run = snuffer.Run("hf-parts", out_dir=out(), planned_steps=100_000)
        t = time.perf_counter()
        for _ in range(20_000):
            cb.on_step_end(None, None, None)
        per_call = (time.perf_counter() - t) / 20_000
        cb.run.finish()
        hf_step = statistics.median(hf_loop(a.hf_steps, False, out())[0] for _ in range(3)) / a.hf_steps
        print(f"HF callback: on_step_end {per_call * 1e9:.0f} ns per step, on a {hf_step * 1e3:.1f} ms "
              f"Trainer step: ratio {1 + per_call / hf_step:.5f} (plus the meters' thread)")
        compare(f"HF Trainer, {a.hf_steps} steps", lambda t: hf_loop(a.hf_steps, t, out()), a.repeats)
    print("goal: ratio <= 1.01 (from the components):", "met" if max(ratios) <= 1.01 else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
