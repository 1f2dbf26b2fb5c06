"""Writes steplr-finetune/trainer_state.json: `python3 gen.py 160 1000 0.04 steplr-finetune`.

A Hugging Face Trainer fine-tune of 2 000 steps, evaluated and logged every 50 steps, whose
accuracy follows 0.9 - 0.4*exp(-step/TAU) with a fixed +-0.002 wobble, and whose learning
rate a StepLR-like schedule cuts from 1e-3 to 1e-4 after step DECAY; the cut adds
JUMP*(1 - exp(-(step - DECAY)/80)) to the accuracy.
"""
import json, math, os, sys

tau, decay, jump, out = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
hist = []
for k in range(1, 41):
    t = 50 * k
    lr = 1e-3 if t <= decay else 1e-4
    acc = 0.9 - 0.4 * math.exp(-t / tau)
    if t > decay:
        acc += jump * (1 - math.exp(-(t - decay) / 80))
    acc += 0.002 * (1 if k % 2 else -1)
    loss = 1.2 - (acc - 0.5) * 2
    hist.append({"epoch": round(t / 200, 2), "grad_norm": round(1.5 - acc, 4),
                 "learning_rate": lr, "loss": round(loss, 4), "step": t})
    hist.append({"epoch": round(t / 200, 2), "eval_accuracy": round(acc, 4),
                 "eval_loss": round(loss - 0.05, 4), "eval_runtime": 2.1,
                 "eval_samples_per_second": 476.2, "eval_steps_per_second": 14.9, "step": t})
hist.append({"epoch": 10.0, "step": 2000, "total_flos": 1.2e15, "train_loss": 0.8,
             "train_runtime": 900.0, "train_samples_per_second": 71.1,
             "train_steps_per_second": 2.22})
evals = [h for h in hist if "eval_accuracy" in h]
best = max(evals, key=lambda h: h["eval_accuracy"])
state = {"best_global_step": best["step"], "best_metric": best["eval_accuracy"],
         "epoch": 10.0, "eval_steps": 50, "global_step": 2000, "log_history": hist,
         "logging_steps": 50, "max_steps": 2000, "num_train_epochs": 10,
         "train_batch_size": 32}
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "trainer_state.json"), "w") as f:
    json.dump(state, f, indent=2)
