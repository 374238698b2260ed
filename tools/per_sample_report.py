#!/usr/bin/env python3
"""Turns launch/per_sample.sh's metrics into DIR/results.md: validation loss (accuracy) of every run at
every evaluated step, and the final loss's difference to vanilla on the same seed.

Usage: per_sample_report.py --dir DIR [--steps N --corpus C] [--warm-start W] [--regime R] [--index FILE]
W is "experiment" (launch/experiment.sh's warm start of the corpus, the default) or "stage CORPUS-MODEL-STEP";
R is "subset" (the fixed 2,800-sequence subset, the default) or "whole" (the whole training split).
Reads DIR/<name>-s<seed>.jsonl[.gz]. Settings not given are read from DIR/report.json (written by the
first run), so tools/regenerate_reports.sh reproduces every folder from its logs. With --index, the
final-step table replaces the block `<!-- generated: DIRNAME -->` … `<!-- /generated -->` in FILE.
Standard library only.
"""
import argparse, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_labels import LABELS as names  # noqa: E402
from metrics_io import metrics_files, read_rows, settings, update_index  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--steps")
ap.add_argument("--corpus")
ap.add_argument("--warm-start")
ap.add_argument("--regime", choices=["subset", "whole"])
ap.add_argument("--index")
args = ap.parse_args()
out = args.dir
config = settings(out, {"tool": "per_sample_report.py", "steps": args.steps, "corpus": args.corpus,
                        "warm_start": args.warm_start, "regime": args.regime})
for key in ("steps", "corpus"):
    if config.get(key) is None:
        sys.exit(f"error: --{key} not given and not in {os.path.join(out, 'report.json')}")
steps, corpus = config["steps"], config["corpus"]
warm = config.get("warm_start") or "experiment"
if warm == "experiment":
    model, source = "BERT-mini", f"the {corpus} corpus's warm start"
else:
    _, model_name, step = warm.split()[-1].split("-")
    model = "BERT-mini" if model_name == "mini" else model_name
    source = f"step {step} of launch/stages.sh's plain run on {corpus}"
data = "the whole training split" if config.get("regime") == "whole" else "2,800-sequence subset"

runs = {}
for name, path in metrics_files(out, "*-s[0-9]").items():
    rows = read_rows(path)
    finals = [r for r in rows if r.get("final")]
    if not finals:
        continue
    evals = {r["step"]: (r["val_loss"], r["val_accuracy"]) for r in rows if "val_loss" in r and not r.get("final")}
    evals[finals[-1]["step"]] = (finals[-1]["val_loss"], finals[-1]["val_accuracy"])
    runs[name] = evals

all_steps = sorted({s for e in runs.values() for s in e})
lines = [f"# Per backpropagated sample: {steps} steps, the same schedule for every policy", "",
         f"`launch/per_sample.sh` — {model}, 2 ranks, b = 32 backpropagated per step (ρ = 0.5 for the selecting",
         f"policies unless the row names another), from {source}, {data}, lr 1e-3 with 30 warm-up steps decaying",
         "linearly to 0 at the last step, validation loss (accuracy) on up to 1,600 held-out sequences. Equal steps",
         "are equal backpropagated samples.", "",
         "| run | " + " | ".join(f"step {s}" for s in all_steps) + " |", "|---|" + "---|" * len(all_steps)]


def order(key):
    base = key.rsplit("-s", 1)[0]
    return (list(names).index(base) if base in names else len(names), key)


for key in sorted(runs, key=order):
    base, seed = key.rsplit("-s", 1)
    cells = [f"{runs[key][s][0]:.4f} ({100 * runs[key][s][1]:.2f}%)" if s in runs[key] else "—" for s in all_steps]
    lines.append(f"| {names.get(base, base)} s{seed} | " + " | ".join(cells) + " |")
open(os.path.join(out, "results.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))

# The index's table: each run's final validation loss / accuracy and its loss difference to vanilla on the
# same seed (negative: lower loss than vanilla after the same number of backpropagated samples), and its
# accuracy difference (positive: more accurate).
table = ["| run | seed | final step | final val. loss / acc. | Δ loss to vanilla, same seed | Δ accuracy to vanilla, same seed |",
         "|---|---|---|---|---|---|"]
for key in sorted(runs, key=order):
    base, seed = key.rsplit("-s", 1)
    last = max(runs[key])
    loss, acc = runs[key][last]
    # A run with a shorter schedule ("NAME-112") is compared with vanilla on the same schedule ("vanilla-112").
    suffix = re.search(r"-\d+$", base)
    v = runs.get(f"vanilla{suffix.group(0) if suffix else ''}-s{seed}")
    same = not base.startswith("vanilla") and v and last in v
    delta = f"{loss - v[last][0]:+.4f}" if same else "—"
    delta_acc = f"{100 * (acc - v[last][1]):+.2f} points" if same else "—"
    table.append(f"| {names.get(base, base)} | {seed} | {last} | {loss:.4f} / {100 * acc:.2f}% | {delta} | {delta_acc} |")
if args.index:
    key = os.path.basename(os.path.normpath(out))
    if not update_index(args.index, key, table):
        print(f"warning: no '<!-- generated: {key} -->' block in {args.index}", file=sys.stderr)
