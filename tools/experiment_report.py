#!/usr/bin/env python3
"""Turns launch/experiment.sh's metrics into a Markdown table and gnuplot PNG curves.

Usage: experiment_report.py DIR BUDGET DATE MACHINE  (reads DIR/<policy>.jsonl, writes DIR/results.md,
DIR/accuracy_vs_time.png, DIR/accuracy_vs_samples.png). Standard library only.
"""
import json, os, subprocess, sys

out, budget, date, machine = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
names = ["vanilla", "sift-exit1", "sift-exit2", "exact", "sift-exit1-warm200"]
labels = {"vanilla": "vanilla", "sift-exit1": "SIFT, exit layer 1", "sift-exit2": "SIFT, exit layer 2", "exact": "exact loss (selective backprop)",
          "sift-exit1-warm200": "SIFT, exit layer 1, after 200 plain steps"}
curves, steps, fidelity, final = {}, {}, {}, {}
for n in names:
    path = os.path.join(out, n + ".jsonl")
    if not os.path.exists(path):
        continue
    rows = [json.loads(l) for l in open(path) if l.strip()]
    pts = [(0.0, 0, 0.0)]
    for r in rows:
        if "val_accuracy" in r:
            pts.append((r["elapsed"], r.get("samples_backpropagated", pts[-1][1]), r["val_accuracy"]))
    step_rows = [r for r in rows if "times" in r]
    if step_rows:
        last = step_rows[-1]
        pts_final = [r for r in rows if r.get("final")]
        if pts_final:
            pts.append((pts_final[-1]["elapsed"], last["samples_backpropagated"], pts_final[-1]["val_accuracy"]))
        steps[n] = (len(step_rows), last["samples_backpropagated"], last.get("samples_scored", 0))
    fid = [(r["fidelity_spearman"], r["fidelity_top_overlap"]) for r in rows if r.get("fidelity_spearman") is not None]
    if fid:
        fidelity[n] = (sum(f[0] for f in fid) / len(fid), sum(f[1] for f in fid) / len(fid), len(fid))
    curves[n] = pts
    with open(os.path.join(out, n + ".dat"), "w") as f:
        for t, s, a in pts:
            f.write(f"{t:.2f} {s} {100 * a:.3f}\n")

best = max((a for pts in curves.values() for _, _, a in pts), default=0)
thresholds = [x / 100 for x in range(5, int(best * 100) + 1, 5)]

def first_reach(pts, thr):
    for t, s, a in pts:
        if a >= thr:
            return t, s
    return None

lines = [f"# SIFT vs plain training at our scale", "",
         f"Measured {date} on this machine ({machine}) by `launch/experiment.sh --budget {budget}`:",
         f"BERT-mini (L4/H256/A4, vocab 8192), default corpus, sequence length 128, b = 32 backpropagated per step,",
         f"ρ = 0.5 for the selecting policies, AdamW lr 1e-3 with 30 warm-up steps, seed 1234, 2 ranks, {budget} s of",
         "training per policy (evaluation time included, fidelity checks excluded). Validation: the 234 held-out",
         "sequences with fixed masks.", "",
         "| policy | steps | backpropagated | scored | final val. accuracy |", "|---|---|---|---|---|"]
for n in names:
    if n in curves and n in steps:
        lines.append(f"| {labels[n]} | {steps[n][0]} | {steps[n][1]} | {steps[n][2]} | {100 * curves[n][-1][2]:.2f}% |")
lines += ["", "Time (s) and backpropagated samples to first reach each validation accuracy (— = not reached):", "",
          "| accuracy | " + " | ".join(labels[n] for n in names if n in curves) + " |",
          "|---|" + "---|" * len([n for n in names if n in curves])]
for thr in thresholds:
    cells = []
    for n in names:
        if n not in curves:
            continue
        r = first_reach(curves[n], thr)
        cells.append("—" if r is None else f"{r[0]:.0f} s / {r[1]}")
    lines.append(f"| {100 * thr:.0f}% | " + " | ".join(cells) + " |")
if fidelity:
    lines += ["", "Selection fidelity (mean over checks every 50 steps): Spearman correlation of the scoring loss with the",
              "exact loss over each pool, and the overlap of their top-b sets:", "",
              "| policy | Spearman | top-b overlap | checks |", "|---|---|---|---|"]
    for n in names:
        if n in fidelity:
            s, o, k = fidelity[n]
            lines.append(f"| {labels[n]} | {s:.3f} | {o:.3f} | {k} |")
lines += ["", "![accuracy vs time](accuracy_vs_time.png)", "", "![accuracy vs backpropagated samples](accuracy_vs_samples.png)", ""]
open(os.path.join(out, "results.md"), "w").write("\n".join(lines))

for kind, col, xl in [("time", 1, "training wall time (s)"), ("samples", 2, "backpropagated samples")]:
    plots = ", ".join(f"'{os.path.join(out, n + '.dat')}' using {col}:3 with linespoints title '{labels[n]}'" for n in names if n in curves)
    script = f"""set terminal pngcairo size 900,560 font ',11'
set output '{os.path.join(out, 'accuracy_vs_' + kind + '.png')}'
set xlabel '{xl}'; set ylabel 'validation MLM accuracy (%)'; set key bottom right; set grid
set title 'BERT-mini, 2 ranks: validation accuracy vs {xl}'
plot {plots}
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"warning: gnuplot failed ({e}); no {kind} plot", file=sys.stderr)
print("\n".join(lines))
