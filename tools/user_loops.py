#!/usr/bin/env python3
"""Writes the three small "user loops" the learned prior's model card is checked on, as a
curves CSV (DESIGN.md's format): a 20-evaluation fine-tune loss log that drops fast and then
stays flat, a 60-evaluation fine-tune accuracy that sits at chance for 10 evaluations, learns,
saturates and overfits a little, and a 100-evaluation regression MSE falling exponentially to
a floor 100 times below its start — three runs of each, seeded. They are made up to look like
users' loops, not drawn from any source, so no constant was chosen on them.

    python3 tools/user_loops.py > user_loops.csv
    target/release/snuffer replay --curves user_loops.csv --policy marginal --tau-relative 0.3 --method fitted
"""
import csv
import math
import random
import sys

random.seed(5)
rows = []


def add(task, run, name, higher, values, seconds=10.0):
    for i, v in enumerate(values):
        rows.append(dict(source="user", task=task, run_id=run, step=(i + 1) * 50, metric=v,
                         metric_name=name, higher_is_better="true" if higher else "false",
                         epoch_time_s=seconds, cost=seconds * (i + 1)))


for r in range(3):
    add("ft-loss", "a%d" % r, "eval_loss", False,
        [round(0.45 + 1.5 * math.exp(-i / 2.5) + random.gauss(0, 0.01), 4) for i in range(20)])
for r in range(3):
    values = []
    for i in range(60):
        q = 0.5 if i < 10 else 0.5 + 0.38 * (1 - math.exp(-(i - 10) / 6))
        if i > 40:
            q -= 0.002 * (i - 40)
        values.append(round(q + random.gauss(0, 0.008), 4))
    add("ft-acc", "b%d" % r, "eval_accuracy", True, values)
for r in range(3):
    add("reg-mse", "c%d" % r, "val_mse", False,
        [round(0.02 + 2.0 * math.exp(-i / 12) * (1 + random.gauss(0, 0.03)), 5) for i in range(100)])
w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0].keys()))
w.writeheader()
w.writerows(rows)
