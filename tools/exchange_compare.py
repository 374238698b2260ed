#!/usr/bin/env python3
"""Step time and training loss of two launch/cluster_bench.sh variants measured back to back (e.g. the float and
the bfloat16 gradient exchange): one row per (rate, model, policy, overlap) found in both.

Usage: tools/exchange_compare.py BASELINE_DIR VARIANT_DIR   (each a cluster_bench --out folder with rows/)
       tools/exchange_compare.py --evaluations BASELINE.jsonl VARIANT.jsonl [REFERENCE.jsonl]
         (`sift train --metrics` logs of one run each: validation loss and accuracy at every evaluation, the
         variant's difference from the baseline, and a reference's — e.g. the baseline at another rank count,
         which differs from it by float rounding only — for the size of that chaos)
"""
import glob
import json
import os
import sys

import metrics_io


def rows(folder):
    out = {}
    for f in glob.glob(os.path.join(folder, "rows", "*.json")):
        r = json.load(open(f))
        if "step_s" in r and "model" in r and not r.get("engine"):
            out[(r["rate"], r["model"], r["policy"], r["overlap"])] = r
    return out


def evaluations(paths):
    runs = []
    for path in paths:
        rows = metrics_io.read_rows(path)
        runs.append({r["step"]: (r["val_loss"], r["val_accuracy"]) for r in rows if r.get("val_loss") is not None})
    steps = sorted(set.intersection(*(set(r) for r in runs)))
    if not steps:
        sys.exit("error: the runs have no evaluation step in common")
    names = ["baseline", "variant"] + (["reference"] if len(paths) == 3 else [])
    for name, path in zip(names, paths):
        print(f"{name}: {path}")
    header = "| step | " + " | ".join(f"{n}: val loss / acc" for n in names) + " | variant − baseline |"
    header += " reference − baseline |" if len(paths) == 3 else ""
    print(header)
    print("|" + "---|" * (len(names) + 2 + (len(paths) == 3)))
    for step in steps:
        cells = [f"{run[step][0]:.4f} / {100 * run[step][1]:.2f}%" for run in runs]
        diffs = [f"{run[step][0] - runs[0][step][0]:+.4f} / {100 * (run[step][1] - runs[0][step][1]):+.2f} pt"
                 for run in runs[1:]]
        print(f"| {step} | " + " | ".join(cells + diffs) + " |")


def main():
    if len(sys.argv) in (4, 5) and sys.argv[1] == "--evaluations":
        return evaluations(sys.argv[2:])
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    base, variant = rows(sys.argv[1]), rows(sys.argv[2])
    keys = sorted(set(base) & set(variant), key=lambda k: (float(k[0].rstrip("mbitg") or 0) * (1000 if "gbit" in k[0] else 1), k[1], k[2], not k[3]))
    if not keys:
        sys.exit("error: the two folders have no run in common")
    flags = lambda rs: sorted({r.get("train_flags", "") for r in rs.values()})
    print(f"baseline {sys.argv[1]} ({', '.join(flags(base)) or 'no extra flags'}) against variant {sys.argv[2]} "
          f"({', '.join(flags(variant)) or 'no extra flags'})")
    print("| rate | model | policy | overlap | step: baseline | step: variant | variant ÷ baseline | "
          "largest train-loss difference over the run |")
    print("|---|---|---|---|---|---|---|---|")
    for k in keys:
        a, b = base[k], variant[k]
        diff = max(abs(x - y) for x, y in zip(a["losses"], b["losses"]))
        print(f"| {k[0]} | {k[1]} | {k[2]} | {'on' if k[3] else 'off'} | {a['step_s']:.3f} s | {b['step_s']:.3f} s | "
              f"{b['step_s'] / a['step_s']:.2f} | {diff:.2e} (of {len(a['losses'])} steps) |")


if __name__ == "__main__":
    main()
