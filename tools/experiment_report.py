#!/usr/bin/env python3
"""Turns launch/experiment.sh's metrics into DIR/results.md and PNG curves (gnuplot).

Usage: experiment_report.py --dir DIR [--budget S --date D --machine M --heading H] [--index FILE]
Reads DIR/<corpus>-<policy>-s<seed>.jsonl[.gz] (sift train --metrics), writes DIR/results.md and, per corpus,
DIR/<corpus>_{loss,accuracy}_vs_{time,samples}.png. Settings not given are read from DIR/report.json (written
by the first run), so `tools/regenerate_reports.sh` reproduces every folder from its logs. With --index, the
round's verdict table replaces the block `<!-- generated: DIRNAME -->` … `<!-- /generated -->` in FILE
(docs/EXPERIMENTS.md). Standard library only.

For each selecting run the headline figure is the ratio
    (wall time to reach vanilla's final validation loss, same corpus and seed) / (vanilla's wall time),
with times interpolated linearly between evaluations; the paper's BERT-base result is 43 h / 57 h = 0.75.
"""
import argparse, glob, json, os, re, subprocess, sys

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--budget")
ap.add_argument("--date")
ap.add_argument("--machine")
ap.add_argument("--heading")
ap.add_argument("--model", help="the model, as the header names it (default: BERT-mini)")
ap.add_argument("--warm-start", help="what every run starts from, as the header says it")
ap.add_argument("--index", help="a Markdown file whose generated block for this folder gets the verdict table")
args = ap.parse_args()
out = args.dir

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_labels import LABELS  # noqa: E402
from verdict_report import write as write_verdict  # noqa: E402
from metrics_io import metrics_files, read_rows, settings, update_index  # noqa: E402

config = settings(out, {"tool": "experiment_report.py", "budget": args.budget, "date": args.date,
                        "machine": args.machine, "heading": args.heading, "model": args.model, "warm_start": args.warm_start},
                  {"heading": "SIFT against plain training: the deciding experiment",
                   "model": "BERT-mini (L4/H256/A4, WordPiece vocabulary 8192 learned per corpus)",
                   "warm_start": "the same vanilla warm start of its corpus (1,000 plain steps on the whole training split; "
                                 "time 0 on the curves is its final evaluation)"})
for key in ("budget", "date", "machine"):
    if config.get(key) is None:
        sys.exit(f"error: --{key} not given and not in {os.path.join(out, 'report.json')}")
args.budget, args.date, args.machine, args.heading = config["budget"], config["date"], config["machine"], config["heading"]
args.model, args.warm_start = config["model"], config["warm_start"]

ORDER = list(LABELS)
CORPORA = {"python": "Python documentation (reStructuredText markup removed)", "gcide": "GCIDE dictionary (prose)",
           "licenses": "Debian copyright files, identical files once (near-duplicate license text)"}


def load(path):
    rows = read_rows(path)
    steps = [r for r in rows if "times" in r]
    final = [r for r in rows if r.get("final")]
    if not steps or not final:
        return None
    # Evaluation points: (elapsed s, backpropagated samples, val loss, val accuracy), starting at the origin
    # only for the time axis' sake (no loss at 0: the untrained loss is not measured).
    pts = [(r["elapsed"], r["samples_backpropagated"], r["val_loss"], r["val_accuracy"]) for r in steps if "val_loss" in r]
    f = final[-1]
    # The final evaluation belongs to the last step's clock: sift builds before 2026-11-26's fix stamped the
    # final record with the clock *after* that evaluation (≈ 13 s of measuring counted as training).
    end = steps[-1]["elapsed"]
    pts.append((end, steps[-1]["samples_backpropagated"], f["val_loss"], f["val_accuracy"]))
    fid = [(r["fidelity_spearman"], r["fidelity_top_overlap"]) for r in steps if r.get("fidelity_spearman") is not None]
    return {"points": pts, "steps": len(steps), "last_step": steps[-1]["step"],
            "scored": steps[-1]["samples_scored"], "backprop": steps[-1]["samples_backpropagated"],
            "elapsed": end, "loss": f["val_loss"], "acc": f["val_accuracy"], "fidelity": fid,
            "masked": f.get("val_masked_tokens"),
            "step_s": end / max(1, steps[-1]["step"])}


def first_reach(pts, value, column, lower_is_better, bracket=False):
    """Interpolated (time, samples) at which column first reaches value; with bracket, also the times of
    the evaluations just before and after the crossing (the interpolation's honest uncertainty)."""
    prev = None
    for p in pts:
        ok = p[column] <= value if lower_is_better else p[column] >= value
        if ok:
            if prev is None:
                hit = (p[0], p[1])
                return hit + ((p[0], p[0]),) if bracket else hit
            a, b = prev[column], p[column]
            t = 1.0 if a == b else (value - a) / (b - a)
            t = min(max(t, 0.0), 1.0)
            hit = (prev[0] + t * (p[0] - prev[0]), prev[1] + t * (p[1] - prev[1]))
            return hit + ((prev[0], p[0]),) if bracket else hit
        prev = p
    return None


# The shared warm start's final evaluation is every run's starting point (time 0, no samples).
starts = {}
for name, path in metrics_files(out, "*-warm-start").items():
    finals = [r for r in read_rows(path) if r.get("final")]
    if finals:
        starts[name[:-len("-warm-start")]] = (finals[-1]["val_loss"], finals[-1]["val_accuracy"])

runs = {}
for name, path in metrics_files(out, "*-s*").items():
    m = re.match(r"(.+?)-(.+)-s(\d+)$", name)
    if not m:
        continue
    r = load(path)
    if r:
        if m.group(1) in starts:
            r["points"].insert(0, (0.0, 0, starts[m.group(1)][0], starts[m.group(1)][1]))
        runs[(m.group(1), m.group(2), int(m.group(3)))] = r

def masked_tokens_text(runs):
    """The validation masked-token counts the runs' final records logged (older logs did not log them)."""
    counts = sorted({r["masked"] for r in runs.values() if r.get("masked")})
    if not counts:
        return "masked-token count not logged by these runs"
    missing = sum(1 for r in runs.values() if not r.get("masked"))
    text = f"{counts[0]:,} masked tokens" if len(counts) == 1 else f"{counts[0]:,}–{counts[-1]:,} masked tokens per seed"
    return text + (f"; {missing} run(s) did not log it" if missing else "")


lines = [f"# {args.heading}", "",
         f"Measured {args.date} on {args.machine} by `launch/experiment.sh` (results of finished runs only; the",
         f"script resumes where it stopped). {args.model},",
         f"2 ranks × 1 OpenBLAS thread, sequence length 128, b = 32 backpropagated per step, ρ = 0.5 unless the policy names another, exit layer 1,",
         f"AdamW lr 1e-3 with 30 warm-up steps, **{args.budget} s of training per run**"
         + (f" ({int(args.budget) * 3 // 4} s for runs named \"3/4 of the budget\")" if any(k[1].endswith("-b75") for k in runs) else "")
         + " on a fixed subset of 2,800",
         "training sequences (several epochs), learning-rate schedule fitted to the budget (decays to 0 at its end),",
         f"validation on 1,600 held-out sequences ({masked_tokens_text(runs)}) with evaluation off the clock. Every run",
         f"starts from {args.warm_start}.", ""]

def ratio_cell(hit, vanilla_elapsed):
    """"0.91 [0.88–0.95]": the interpolated ratio and the ratios at the evaluations around the crossing."""
    lo, hi = hit[2]
    r = f"{hit[0] / vanilla_elapsed:.2f}"
    return r if lo == hi else f"{r} [{lo / vanilla_elapsed:.2f}–{hi / vanilla_elapsed:.2f}]"


verdict, budget_verdict = [], []
# The same rows as numbers, for tools/verdict_report.py (DIR/verdict.json): one per selecting run and seed.
verdict_rows, budget_rows = [], []
# Per (corpus, run label): [seeds ahead on loss, seeds ahead on accuracy, seeds] in the verdict tables, where
# "ahead" is a ratio below 1 (the run reached vanilla's final value, or matched it, in less time).
ahead, budget_ahead = {}, {}


def ratio_value(cell):
    """A ratio cell as a number: "0.91 [0.88–0.95]" → 0.91, "> 1" → inf, "—" → None."""
    if cell.startswith(">"):
        return float("inf")
    try:
        return float(cell.split(" ")[0])
    except ValueError:
        return None


def eval_noise(points, last=6):
    """How much vanilla's validation loss moves between consecutive evaluations near its end: the mean absolute
    difference over its last `last` evaluations (nats) — the scale below which a final-loss margin is noise."""
    losses = [p[2] for p in points[-last:]]
    diffs = [abs(b - a) for a, b in zip(losses, losses[1:])]
    return sum(diffs) / len(diffs) if diffs else None


def below_one(cell):
    """True when a ratio cell ("0.91 [0.88–0.95]", "> 1", "—") reads below 1."""
    try:
        return float(cell.split(" ")[0]) < 1
    except ValueError:
        return False


def count_line(counts):
    """One sentence: per corpus and run, the seeds whose ratio is below 1 on loss and on accuracy."""
    parts = [f"{corpus}, {label}: {a[0]} of {a[2]} on loss, {a[1]} of {a[2]} on accuracy" for (corpus, label), a in counts.items()]
    return "Seeds ahead of vanilla (ratio below 1): " + "; ".join(parts) + "."
for corpus, title in CORPORA.items():
    names = [n for n in ORDER if any(k[0] == corpus and k[1] == n for k in runs)]
    if not names:
        continue
    seeds = sorted({k[2] for k in runs if k[0] == corpus})
    lines += [f"## {title}", "",
              "| policy | seed | steps | backpropagated | scored | s/step | final val. loss | final val. accuracy | time to vanilla's final loss | ratio | samples to it | ratio to vanilla's final accuracy |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in names:
        for s in seeds:
            r = runs.get((corpus, n, s))
            if not r:
                continue
            v = runs.get((corpus, "vanilla", s))
            cell_t = cell_r = cell_s = cell_a = "—"
            if v:
                hit_a = first_reach(r["points"], v["acc"], 3, False, bracket=True)
                cell_a = (ratio_cell(hit_a, v["elapsed"]) if n != "vanilla" else f"{hit_a[0] / v['elapsed']:.2f}") if hit_a else "> 1"
                hit = first_reach(r["points"], v["loss"], 2, True, bracket=True)
                if hit:
                    cell_t, cell_s = f"{hit[0]:.0f} s", f"{hit[1]:.0f}"
                    cell_r = f"{hit[0] / v['elapsed']:.2f}" if n == "vanilla" else ratio_cell(hit, v["elapsed"])
                else:
                    cell_t, cell_r, cell_s = "not reached", "> 1", "—"
                if n != "vanilla" and not n.endswith("-b75"):
                    a = ahead.setdefault((corpus, LABELS[n]), [0, 0, 0])
                    a[0] += below_one(cell_r); a[1] += below_one(cell_a); a[2] += 1
                    verdict_rows.append({"corpus": corpus, "seed": s, "run": LABELS[n],
                                         "vanilla_loss": v["loss"], "vanilla_accuracy": v["acc"],
                                         "loss": r["loss"], "accuracy": r["acc"],
                                         "loss_ratio": ratio_value(cell_r), "accuracy_ratio": ratio_value(cell_a),
                                         "loss_cell": cell_r, "accuracy_cell": cell_a,
                                         "step_overhead": r["step_s"] / v["step_s"] - 1,
                                         "vanilla_eval_step": eval_noise(v["points"])})
                    verdict.append(f"| {corpus} | {s} | {LABELS[n]} | {v['loss']:.4f} / {100 * v['acc']:.2f}% | "
                                   f"{r['loss']:.4f} / {100 * r['acc']:.2f}% | {cell_r} | {cell_a} | "
                                   f"{v['step_s']:.3f} / {r['step_s']:.3f} ({100 * (r['step_s'] / v['step_s'] - 1):+.1f}%) |")
            lines.append(f"| {LABELS[n]} | {s} | {r['last_step']} | {r['backprop']} | {r['scored']} | {r['step_s']:.3f} | "
                         f"{r['loss']:.4f} | {100 * r['acc']:.2f}% | {cell_t} | {cell_r} | {cell_s} | {cell_a} |")
    # Shorter budgets (`<policy>-b75` runs): the vanilla budget that would give each run's final loss, by linear
    # interpolation of vanilla's final loss between its own short and full budgets (extrapolated past either
    # budget when the run's loss lies outside vanilla's two) — the time a user needs to match it with vanilla.
    short = [n for n in names if n.endswith("-b75") and n != "vanilla-b75"]
    if short and "vanilla-b75" in names:
        lines += ["", "Runs given 3/4 of the budget (their schedules fitted to it): the vanilla budget that would reach the same final",
                  "loss (and accuracy), interpolated linearly between vanilla's finals at 3/4 and at the full budget (same seed), and the",
                  "ratio of the run's own training time to it (≤ 0.75 means vanilla would need at least 4/3 of the time):", "",
                  "| run | seed | training time | final val. loss / acc. | vanilla's final loss at 3/4 / full budget | vanilla's final acc. at 3/4 / full budget | vanilla budget to match its loss | ratio | vanilla budget to match its accuracy | ratio |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for n in short:
            for s in seeds:
                r, v, v75 = runs.get((corpus, n, s)), runs.get((corpus, "vanilla", s)), runs.get((corpus, "vanilla-b75", s))
                if not (r and v and v75):
                    continue
                def matching(key, higher_is_better):
                    """The vanilla budget (s) that reaches the run's final value of key, linear between vanilla's
                    budgets; None when vanilla did not improve from 3/4 to the full budget."""
                    a, b, x = v75[key], v[key], r[key]
                    if (b <= a) if higher_is_better else (b >= a):
                        return None
                    t = v75["elapsed"] + (x - a) / (b - a) * (v["elapsed"] - v75["elapsed"])
                    outside = not (min(a, b) <= x <= max(a, b))
                    return t, outside
                cells = []
                for key, better in (("loss", False), ("acc", True)):
                    m = matching(key, better)
                    cells += ["—", "—"] if m is None or m[0] <= 0 else [f"{m[0]:.0f} s{' (extrapolated)' if m[1] else ''}",
                                                                          f"{r['elapsed'] / m[0]:.2f}"]
                lines.append(f"| {LABELS[n]} | {s} | {r['elapsed']:.0f} s | {r['loss']:.4f} / {100 * r['acc']:.2f}% | "
                             f"{v75['loss']:.4f} / {v['loss']:.4f} | {100 * v75['acc']:.2f}% / {100 * v['acc']:.2f}% | "
                             + " | ".join(cells) + " |")
                a = budget_ahead.setdefault((corpus, LABELS[n]), [0, 0, 0])
                a[0] += below_one(cells[1]); a[1] += below_one(cells[3]); a[2] += 1
                budget_rows.append({"corpus": corpus, "seed": s, "run": LABELS[n], "loss": r["loss"], "accuracy": r["acc"],
                                    "loss_ratio": ratio_value(cells[1]), "accuracy_ratio": ratio_value(cells[3])})
                budget_verdict.append(f"| {corpus} | {s} | {LABELS[n]} | {v['loss']:.4f} / {v75['loss']:.4f} | "
                                      f"{100 * v['acc']:.2f}% / {100 * v75['acc']:.2f}% | {r['loss']:.4f} / {100 * r['acc']:.2f}% | "
                                      + " | ".join(cells) + " |")
    # Thresholds of validation loss, evenly spaced from the start (the warm start's loss) to the best final
    # loss of the corpus: time / samples to reach each, one row per run.
    finals = [runs[k]["loss"] for k in runs if k[0] == corpus]
    lo = min(finals)
    hi = starts[corpus][0] if corpus in starts else max(p[2] for k in runs if k[0] == corpus for p in runs[k]["points"])
    thresholds = sorted({round(hi - (hi - lo) * i / 6, 3) for i in range(1, 7)}, reverse=True)
    if thresholds:
        cols = [(n, s) for n in names for s in seeds if (corpus, n, s) in runs]
        lines += ["", "Wall time (s) / backpropagated samples to first reach each validation loss (— = not reached; "
                  "levels evenly spaced from the starting loss to the best final loss):", "",
                  "| run | " + " | ".join(f"≤ {thr:.3f}" for thr in thresholds) + " |",
                  "|---|" + "---|" * len(thresholds)]
        for n, s in cols:
            cells = []
            for thr in thresholds:
                hit = first_reach(runs[(corpus, n, s)]["points"], thr, 2, True)
                cells.append("—" if hit is None else f"{hit[0]:.0f} / {hit[1]:.0f}")
            lines.append(f"| {LABELS[n]} s{s} | " + " | ".join(cells) + " |")
    fid = [(n, s, runs[(corpus, n, s)]["fidelity"]) for n in names for s in seeds
           if (corpus, n, s) in runs and runs[(corpus, n, s)]["fidelity"]]
    if fid:
        lines += ["", "Selection fidelity (every 50 steps, off the clock): Spearman correlation of the scoring loss with",
                  "the exact loss over the pool, and the overlap of their top-b sets:", "",
                  "| policy | seed | Spearman | top-b overlap | checks |", "|---|---|---|---|---|"]
        for n, s, f in fid:
            lines.append(f"| {LABELS[n]} | {s} | {sum(x[0] for x in f) / len(f):.3f} | {sum(x[1] for x in f) / len(f):.3f} | {len(f)} |")
    lines.append("")
    for metric, col, ylabel in [("loss", 3, "validation MLM loss (nats)"), ("accuracy", 4, "validation MLM accuracy (%)")]:
        for axis, xcol, xlabel in [("time", 1, "training wall time (s)"), ("samples", 2, "backpropagated samples")]:
            png = f"{corpus}_{metric}_vs_{axis}.png"
            plots = []
            for i, n in enumerate(names):
                for s in seeds:
                    r = runs.get((corpus, n, s))
                    if not r:
                        continue
                    dat = os.path.join(out, f"{corpus}-{n}-s{s}.dat")
                    with open(dat, "w") as fh:
                        for p in r["points"]:
                            fh.write(f"{p[0]:.2f} {p[1]} {p[2]:.5f} {100 * p[3]:.3f}\n")
                    plots.append(f"'{dat}' using {xcol}:{col} with linespoints lc {i + 1} dt {s} title '{LABELS[n].replace('`', '')} s{s}'")
            script = (f"set terminal png size 800,500\nset output '{os.path.join(out, png)}'\n"
                      f"set xlabel '{xlabel}'; set ylabel '{ylabel}'; set key {'top right' if metric == 'loss' else 'bottom right'}; set grid\n"
                      f"set title '{args.model.split(' (')[0]}, 2 ranks, {corpus}: {ylabel} vs {xlabel}'\nplot " + ", ".join(plots) + "\n")
            try:
                subprocess.run(["gnuplot"], input=script, text=True, check=True)
                lines.append(f"![{metric} vs {axis}]({png})")
            except (OSError, subprocess.CalledProcessError) as e:
                print(f"warning: gnuplot failed ({e}); no {png}", file=sys.stderr)
    lines.append("")
    for f in glob.glob(os.path.join(out, f"{corpus}-*.dat")):
        os.remove(f)

# `sift advise` run beside the round (DIR/advise.json, same warm start and seeds): its predicted ratio per seed
# against the measured one — the check that the short probe predicts the timed runs.
advice_table = []
advice_path = os.path.join(out, "advise.json")
if os.path.exists(advice_path):
    advice = json.load(open(advice_path))
    measured = {}
    for (corpus, n, s), r in runs.items():
        v = runs.get((corpus, "vanilla", s))
        if n != "vanilla" and not n.endswith("-b75") and v:
            hit = first_reach(r["points"], v["loss"], 2, True, bracket=True)
            measured[s] = ratio_cell(hit, v["elapsed"]) if hit else "> 1"
    # Advice written since `sift advise` also prices accuracy has per-candidate accuracy* fields (older files: loss only).
    on_accuracy = any("accuracyRatios" in c for c in advice["candidates"])
    for c in advice["candidates"]:
        name = f"exit {c['exitLayer']}, ρ {c['selectFraction']:g}"
        for s_, (v, predicted, g) in enumerate(zip(advice["vanilla"], c["ratios"], c["gains"])):
            # A probe seed whose vanilla loss did not fall with the budget has no gain (null in advise.json).
            gain = "undefined" if g is None else f"{100 * g:+.1f}%"
            ratio = "—" if predicted is None else f"{predicted:.2f}"
            if on_accuracy:
                acc_ratio = (c.get("accuracyRatios") or [None] * len(advice["vanilla"]))[s_]
                ratio += " | " + ("—" if acc_ratio is None else f"{acc_ratio:.2f}")
            advice_table.append(f"| {name} | {v['seed']} | {gain} | {100 * c['overhead']:+.1f}% | {ratio} | "
                                f"{measured.get(v['seed'], '—')} |")
    if advice_table:
        if on_accuracy:
            advice_table = ["| configuration | seed | advise: gain per sample (loss) | advise: step overhead | advise: predicted ratio (loss) | advise: predicted ratio (accuracy) | measured ratio [bracket] |",
                            "|---|---|---|---|---|---|---|"] + advice_table
            verdict_text = (f"on loss {advice['candidates'][0]['verdict']}, on accuracy "
                            f"{advice['candidates'][0].get('accuracyVerdict') or 'not measured'} "
                            f"(the recommendation follows {advice.get('metric', 'loss')})")
        else:
            advice_table = ["| configuration | seed | advise: gain per sample | advise: step overhead | advise: predicted ratio | measured ratio [bracket] |",
                            "|---|---|---|---|---|---|"] + advice_table
            verdict_text = advice['candidates'][0]['verdict']
        lines += ["## `sift advise` from the same warm start", "",
                  f"`sift advise` ({advice['probeSteps']}-step probe, {len(advice['vanilla'])} seeds, {advice['ranks']} ranks, "
                  f"CPU share {advice['cpuShare']:.2f}; output in [advise.txt](advise.txt)) predicted, per seed, the ratio "
                  "(1 − gain)(1 + overhead); beside it the ratio these runs measured. Verdict: "
                  f"{verdict_text}.", ""] + advice_table + [""]

open(os.path.join(out, "results.md"), "w").write("\n".join(lines))
vanilla_accuracy = sorted(r["acc"] for k, r in runs.items() if k[1] == "vanilla")
with open(os.path.join(out, "verdict.json"), "w") as fh:
    json.dump({"tool": "experiment_report.py", "round": os.path.basename(os.path.normpath(out)),
               "vanilla_final_accuracy": [vanilla_accuracy[0], vanilla_accuracy[-1]] if vanilla_accuracy else None,
               "runs": verdict_rows, "budget_runs": budget_rows}, fh, indent=1)
    fh.write("\n")
print("\n".join(lines))

# The round's verdict for the index: one row per selecting run and seed against vanilla on the same seed.
table = []
if verdict:
    table += ["| corpus | seed | run | vanilla: final val. loss / acc. | run: final val. loss / acc. | time to vanilla's final loss ÷ vanilla's time [evaluations around it] | time to vanilla's final accuracy ÷ vanilla's time [evaluations around it] | s/step vanilla / run |",
              "|---|---|---|---|---|---|---|---|"] + verdict + ["", count_line(ahead)]
if budget_verdict:
    table += ([""] if table else []) + [
        "| corpus | seed | run (3/4 of the budget) | vanilla final loss: full / 3/4 budget | vanilla final acc.: full / 3/4 budget | run's final loss / acc. | vanilla budget to match its loss | run's time ÷ that budget | vanilla budget to match its accuracy | run's time ÷ that budget |",
        "|---|---|---|---|---|---|---|---|---|---|"] + budget_verdict + ["", count_line(budget_ahead)]
if advice_table:
    table += ([""] if table else []) + advice_table
if args.index and table:
    key = os.path.basename(os.path.normpath(out))
    if update_index(args.index, key, table):
        print(f"updated the verdict table of {key} in {args.index}", file=sys.stderr)
    else:
        print(f"warning: no '<!-- generated: {key} -->' block in {args.index}", file=sys.stderr)
if args.index:
    write_verdict(args.index)
