#!/usr/bin/env python3
"""PyTorch eager baseline for one training step's forward+backward (manual, not in CI).

Usage: torch_baseline.py [CONFIG] [THREADS] [--masked-head]   (CONFIG: tiny mini small medium base; default base, 2)
Times HuggingFace BertForMaskedLM forward+backward at batch 32, sequence 128, vocab 30522, ~15% of
positions labelled, dropout on, median of 3 after a warm-up; prints seconds and tokens/s.
HuggingFace computes MLM logits at every position; sift only at masked ones. With --masked-head the
same model runs its encoder, gathers the labelled positions and applies the MLM head to those only,
which is the computation sift does (the fair comparison).
"""
import sys, time, torch
from transformers import BertConfig, BertForMaskedLM
sizes = {"tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8), "medium": (8, 512, 8), "base": (12, 768, 12)}
masked_head = "--masked-head" in sys.argv
args = [a for a in sys.argv[1:] if a != "--masked-head"]
name = args[0] if len(args) > 0 else "base"
threads = int(args[1]) if len(args) > 1 else 2
torch.set_num_threads(threads)
L, H, A = sizes[name]
model = BertForMaskedLM(BertConfig(vocab_size=30522, hidden_size=H, num_hidden_layers=L, num_attention_heads=A,
                                   intermediate_size=4 * H)).train()
g = torch.Generator().manual_seed(0)
ids = torch.randint(5, 30522, (32, 128), generator=g)
labels = torch.full((32, 128), -100)
sel = torch.rand(32, 128, generator=g) < 0.15
labels[sel] = ids[sel]
times = []
for i in range(4):
    model.zero_grad()
    t0 = time.perf_counter()
    if masked_head:
        hidden = model.bert(input_ids=ids).last_hidden_state[sel]
        logits = model.cls(hidden)
        torch.nn.functional.cross_entropy(logits, ids[sel]).backward()
    else:
        model(input_ids=ids, labels=labels).loss.backward()
    times.append(time.perf_counter() - t0)
t = sorted(times[1:])[1]
head = "head on masked positions" if masked_head else "head on all positions"
print(f"pytorch {torch.__version__} eager, {name}, {head}, {threads} threads: {t:.3f} s per forward+backward, {32 * 128 / t:.0f} tokens/s")
