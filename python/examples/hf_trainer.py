"""The README's ten-line Trainer example, made runnable anywhere: a tiny BERT built from a
config (random weights) fine-tuned on a synthetic task (label = first token < 16, 20 % of
labels flipped, so accuracy plateaus at 0.8) on CPU, with Snuffer's callback.

    python python/examples/hf_trainer.py [OUT_DIR]
    snuffer report OUT_DIR/snuffer
"""

import sys

import numpy as np
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

from snuffer.hf import SnufferCallback


class Synthetic(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randint(0, 32, (n, 8), generator=g)
        y = (self.x[:, 0] < 16).long()
        self.y = torch.where(torch.rand(n, generator=g) < 0.2, 1 - y, y)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "labels": self.y[i]}


def accuracy(p):
    return {"accuracy": float((np.argmax(p.predictions, -1) == p.label_ids).mean())}


torch.set_num_threads(1)
torch.manual_seed(0)
model = BertForSequenceClassification(BertConfig(
    vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
    intermediate_size=32, max_position_embeddings=16, num_labels=2))
out = sys.argv[1] if len(sys.argv) > 1 else "out-hf-example"

# --- the README's example ---
args = TrainingArguments(output_dir=out, max_steps=400, eval_strategy="steps", eval_steps=10,
                         learning_rate=3e-3, warmup_steps=10, lr_scheduler_type="constant_with_warmup",
                         per_device_train_batch_size=16, save_strategy="no", report_to=[],
                         use_cpu=True, disable_tqdm=True, logging_strategy="no")
callback = SnufferCallback(metric="accuracy", tau_relative=0.5)
trainer = Trainer(model=model, args=args, train_dataset=Synthetic(2000, 1),
                  eval_dataset=Synthetic(512, 2), callbacks=[callback], compute_metrics=accuracy)
trainer.train()
print(f"stopped at step {trainer.state.global_step} of {args.max_steps}: {callback.decision.reason}")
print(f"run directory: {callback.run_dir}")
s = callback.summary
print(f"energy: {s['energy_j']:.3g} J ({s['provenance']['kind']}, ±{100 * s['energy_uncertainty']:.0f} %), "
      f"best {s['metric_name']} {s['best_metric']:.4f} at step {s['best_step']}; "
      f"forecast saving {s['forecast_saved_j']:.3g} J")
