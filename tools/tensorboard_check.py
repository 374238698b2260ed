#!/usr/bin/env python3
"""Loads a `sift train --tensorboard DIR` directory with TensorBoard's own reader (EventAccumulator) and
compares train/loss with the run's metrics file. Usage: tensorboard_check.py DIR METRICS.jsonl (needs `pip install
tensorboard`)."""
import json, sys
from tensorboard.backend.event_processing import event_accumulator as ea
d, metrics = sys.argv[1], sys.argv[2]
acc = ea.EventAccumulator(d, size_guidance={ea.SCALARS: 0})
acc.Reload()
tags = acc.Tags()['scalars']
print('scalar tags:', sorted(tags))
loss = acc.Scalars('train/loss')
print('train/loss events:', len(loss), 'steps', [e.step for e in loss][:5], '...', [e.step for e in loss][-3:])
rows = [json.loads(l) for l in open(metrics) if 'train_loss' in l]
by_step = {}
for r in rows: by_step[r['step']] = r['train_loss']   # the resumed run's rows replace the earlier ones
import numpy as np
diff = max(abs(e.value - np.float32(by_step[e.step])) for e in loss)
print('max |train/loss - metrics train_loss (as float32)|:', diff)
for t in ['val/loss', 'val/accuracy', 'sift/threshold', 'sift/selecting', 'train/lr', 'train/step_seconds']:
    if t in tags: print(t, [(e.step, round(e.value, 6)) for e in acc.Scalars(t)][:4])
