#!/usr/bin/env python3
"""Runs a case written by sift's LambTests through an independent LAMB from PyPI and compares.

By hand, not in CI (it needs torch and timm):

    python3 -m venv /tmp/lambvenv && /tmp/lambvenv/bin/pip install torch timm
    SIFT_LAMB_CASE=/tmp/lamb-case.json swift test -c release --filter LambTests/testWritesTheByHandReferenceCase
    /tmp/lambvenv/bin/python tools/lamb_reference.py /tmp/lamb-case.json

The case holds the tensors of a small ParameterLayout (name, offset, count, decays), the starting
parameters, each step's gradients, the learning rate, weight decay and gradient scale, and the
parameters after sift's `Lamb` ran those steps. timm's `Lamb` (apex FusedLAMB's semantics) runs the
same steps with biases and LayerNorm in a group of weight decay 0, which with `always_adapt=False`
is the exclusion sift follows (docs/DECISIONS.md). Prints the largest absolute and relative difference.
"""
import json
import sys

import torch
from timm.optim import Lamb


def main(path):
    with open(path) as f:
        case = json.load(f)
    start = case["parameters"]
    tensors = [torch.nn.Parameter(torch.tensor(start[t["offset"]:t["offset"] + t["count"]], dtype=torch.float32))
               for t in case["tensors"]]
    decaying = [p for p, t in zip(tensors, case["tensors"]) if t["decays"]]
    excluded = [p for p, t in zip(tensors, case["tensors"]) if not t["decays"]]
    optimizer = Lamb([{"params": decaying, "weight_decay": case["weight_decay"]},
                      {"params": excluded, "weight_decay": 0.0}],
                     lr=case["learning_rate"], betas=(0.9, 0.999), eps=1e-6, max_grad_norm=None,
                     always_adapt=False, foreach=False)
    for grads in case["gradients"]:
        for p, t in zip(tensors, case["tensors"]):
            g = torch.tensor(grads[t["offset"]:t["offset"] + t["count"]], dtype=torch.float32)
            p.grad = g * case["gradient_scale"]
        optimizer.step()
    worst_abs, worst_rel, where = 0.0, 0.0, ""
    for p, t in zip(tensors, case["tensors"]):
        ours = torch.tensor(case["result"][t["offset"]:t["offset"] + t["count"]], dtype=torch.float64)
        theirs = p.detach().to(torch.float64)
        diff = (ours - theirs).abs()
        rel = (diff / theirs.abs().clamp(min=1e-30)).max().item()
        if diff.max().item() > worst_abs:
            worst_abs, where = diff.max().item(), t["name"]
        worst_rel = max(worst_rel, rel)
    steps = len(case["gradients"])
    print(f"sift Lamb vs timm {__import__('timm').__version__} Lamb (torch {torch.__version__}), {len(tensors)} tensors, "
          f"{steps} steps: largest absolute difference {worst_abs:.3g} ({where}), largest relative {worst_rel:.3g}")


if __name__ == "__main__":
    main(sys.argv[1])
