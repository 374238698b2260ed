#!/usr/bin/env python3
"""Cross-check sift against HuggingFace transformers (a manual check, not part of CI).

Usage: check_hf.py MODEL_DIR SAMPLES.jsonl SIFT_BINARY [EXIT_LAYER]

Loads MODEL_DIR (written by `sift export` or `sift train --export`) with
transformers' BertForMaskedLM.from_pretrained, computes per-sample mean MLM losses at the last layer
and at EXIT_LAYER (HF hidden state of that layer through the same MLM head) and the logits at every
predicted position, runs `sift score --json --logits` on the same samples, and prints the largest
relative differences. Needs torch and transformers (pip install torch transformers).
"""
import json, subprocess, sys, tempfile, os
import torch
from transformers import BertForMaskedLM

model_dir, samples_path, sift = sys.argv[1], sys.argv[2], sys.argv[3]
exit_layer = int(sys.argv[4]) if len(sys.argv) > 4 else 1
torch.set_num_threads(1)
model = BertForMaskedLM.from_pretrained(model_dir, attn_implementation="eager").eval()
samples = [json.loads(l) for l in open(samples_path) if l.strip()]

def losses_and_logits(hidden, labels):
    logits = model.cls(hidden)
    ce = torch.nn.functional.cross_entropy(logits[0], labels[0], ignore_index=-100, reduction="none")
    mask = labels[0] != -100
    return (ce[mask].sum() / mask.sum()).item(), logits[0][mask]

hf = []
with torch.no_grad():
    for s in samples:
        ids = torch.tensor([s["input_ids"]])
        labels = torch.tensor([s["labels"]])
        am = torch.tensor([s.get("attention_mask", [1] * len(s["input_ids"]))])
        tt = torch.tensor([s.get("token_type_ids", [0] * len(s["input_ids"]))])
        out = model.bert(input_ids=ids, attention_mask=am, token_type_ids=tt, output_hidden_states=True)
        final_loss, final_logits = losses_and_logits(out.hidden_states[-1], labels)
        exit_loss, exit_logits = losses_and_logits(out.hidden_states[exit_layer], labels)
        hf.append((final_loss, exit_loss, exit_logits))

with tempfile.TemporaryDirectory() as tmp:
    logits_path = os.path.join(tmp, "logits.jsonl")
    res = subprocess.run([sift, "score", "--model", model_dir, "--exit-layer", str(exit_layer), "--json",
                          "--logits", logits_path, samples_path], capture_output=True, text=True, check=True)
    ours = [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
    our_logits = [json.loads(l) for l in open(logits_path)]

def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)

worst_final = max(rel(o["final_loss"], h[0]) for o, h in zip(ours, hf))
worst_exit = max(rel(o["exit_loss"], h[1]) for o, h in zip(ours, hf))
by_sample = {}
for row in our_logits:
    by_sample.setdefault(row["index"], []).append(torch.tensor(row["logits"]))
worst_logit = 0.0
for i, (_, _, hl) in enumerate(hf):
    mine = torch.stack(by_sample[i])
    worst_logit = max(worst_logit, ((mine - hl).abs().max() / hl.abs().max()).item())
print(f"samples: {len(samples)}, exit layer {exit_layer} of {model.config.num_hidden_layers}")
print(f"max relative difference, final-layer loss:  {worst_final:.3e}")
print(f"max relative difference, exit-layer loss:   {worst_exit:.3e}")
print(f"max |logit difference| / max |logit| (exit layer): {worst_logit:.3e}")
ok = worst_final < 1e-4 and worst_exit < 1e-4 and worst_logit < 1e-4
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
