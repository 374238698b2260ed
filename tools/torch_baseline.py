#!/usr/bin/env python3
"""PyTorch eager baseline for one training step's forward+backward (manual, not in CI).

Usage: torch_baseline.py [CONFIG] [THREADS] [--masked-head] [--compile]
       (CONFIG: tiny mini small medium base; default base, 2)
Times HuggingFace BertForMaskedLM forward+backward at batch 32, sequence 128, vocab 30522, ~15% of
positions labelled, dropout on, median of 3 after a warm-up; prints seconds and tokens/s.
HuggingFace computes MLM logits at every position; sift only at masked ones. With --masked-head the
same model runs its encoder, gathers the labelled positions and applies the MLM head to those only,
which is the computation sift does (the fair comparison). With --compile the forward and loss go through
torch.compile (inductor, CPU: it generates and compiles C++ with the system's g++), warmed up with three
steps (the first compiles); if compiling fails, it prints one line saying why and exits 3.
"""
import sys, time, torch
from transformers import BertConfig, BertForMaskedLM
sizes = {"tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8), "medium": (8, 512, 8), "base": (12, 768, 12)}
masked_head = "--masked-head" in sys.argv
compiled = "--compile" in sys.argv
args = [a for a in sys.argv[1:] if a not in ("--masked-head", "--compile")]
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


def loss_of(ids, labels, sel):
    if masked_head:
        hidden = model.bert(input_ids=ids).last_hidden_state[sel]
        return torch.nn.functional.cross_entropy(model.cls(hidden), ids[sel])
    return model(input_ids=ids, labels=labels).loss


step = loss_of
warmup = 1
if compiled:
    # Boolean-mask indexing has a data-dependent shape; the masked positions are gathered by index instead
    # (the same rows), with the count fixed for this batch, so inductor sees static shapes.
    flat = sel.flatten().nonzero().squeeze(1)

    def loss_by_index(ids, labels, sel):
        if masked_head:
            hidden = model.bert(input_ids=ids).last_hidden_state.flatten(0, 1).index_select(0, flat)
            return torch.nn.functional.cross_entropy(model.cls(hidden), ids.flatten().index_select(0, flat))
        return model(input_ids=ids, labels=labels).loss
    step = torch.compile(loss_by_index)
    warmup = 3
    try:
        step(ids, labels, sel).backward()
    except Exception as e:  # noqa: BLE001 - any compiler failure is reported the same way
        print(f"torch.compile does not work here: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        sys.exit(3)
times = []
for i in range(warmup + 3):
    model.zero_grad()
    t0 = time.perf_counter()
    step(ids, labels, sel).backward()
    times.append(time.perf_counter() - t0)
t = sorted(times[warmup:])[1]
head = "head on masked positions" if masked_head else "head on all positions"
mode = "torch.compile (inductor)" if compiled else "eager"
print(f"pytorch {torch.__version__} {mode}, {name}, {head}, {threads} threads: {t:.3f} s per forward+backward, {32 * 128 / t:.0f} tokens/s")
