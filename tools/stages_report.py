#!/usr/bin/env python3
"""Report of launch/stages.sh: SIFT's gain per backpropagated sample at each stage of training.

Reads DIR/<corpus>-<model>-base.jsonl[.gz] (the plain run that provides the warm starts) and
DIR/<corpus>-<model>-<stage>/{vanilla-full,vanilla-short,sift-short}-s<seed>.jsonl[.gz] (the probes), writes
DIR/results.md (every figure in it computed here from the logs) and DIR/gain_vs_accuracy.png (gnuplot).

Gain per backpropagated sample, per seed: vanilla's final validation loss after N and 3N/4 steps (each
with its own schedule) gives its loss as a linear function of its step budget n; the budget n* at which
that line reaches sift-short's final loss is what vanilla needs for what SIFT reached in 3N/4 steps, and
the gain is 1 - (3N/4) / n*. n* outside [3N/4, N] is an extrapolation and is marked with '*'.
The break-even gain of a model whose SIFT step costs a fraction o more than vanilla's is o / (1 + o);
--bench FILE (a `sift bench --json` file with a step section) supplies o per model: the measured overhead
of its SIFT step at exit layer 1 with the training forward reused and a 2,048-class scoring head, the
path `sift train --policy sift` takes by default.
"""
import argparse
import glob
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verdict_report import write as write_verdict  # noqa: E402
from metrics_io import read_rows as rows  # noqa: E402  (the one reader of metrics logs, plain or gzipped)
from metrics_io import metrics_path, settings, update_index  # noqa: E402


def final_eval(path):
    """(step, val_loss, val_accuracy, val_tokens) of the run's final evaluation, or None if unfinished."""
    if not os.path.exists(path):
        return None
    finals = [r for r in rows(path) if r.get("final")]
    if not finals:
        return None
    f = finals[-1]
    return f["step"], f["val_loss"], f["val_accuracy"], f.get("val_tokens")


def lr_reached_zero_early(path):
    """True when the learning rate reached 0 before the run's last step (a schedule shorter than the run)."""
    steps = [r for r in rows(path) if "lr" in r and "step" in r]
    if not steps:
        return False
    last = max(r["step"] for r in steps)
    return any(r["lr"] == 0 and r["step"] < last for r in steps)


def gain(n_short, n_full, loss_v_short, loss_v_full, loss_s_short):
    """(gain, vanilla steps n*, extrapolated) — see the module comment; gain None when vanilla did not improve."""
    drop = loss_v_short - loss_v_full
    if drop <= 0:
        return None, None, True
    n_star = n_short + (loss_v_short - loss_s_short) / drop * (n_full - n_short)
    if n_star <= 0:
        return None, n_star, True
    return 1 - n_short / n_star, n_star, not (n_short <= n_star <= n_full)


def unigram_loss(dataset):
    """Mean −log p of the validation tokens under the training split's unigram frequencies (add-one, without
    [CLS], [SEP] and [PAD], as sift's UnigramReference counts them): the loss of a model that predicts token
    frequencies. Masked positions are a uniform sample of these tokens, so it is the unigram model's MLM loss."""
    import array
    import math
    m = json.load(open(os.path.join(dataset, "manifest.json")))
    vocab = [line.rstrip("\n") for line in open(os.path.join(dataset, "vocab.txt"), encoding="utf-8")]
    special = [vocab.index(t) for t in ("[CLS]", "[SEP]", "[PAD]") if t in vocab]
    size, code = m["vocabSize"], {"uint16": "H", "uint32": "I"}[m["tokenDtype"]]

    def counts(shards):
        c = [0] * size
        for shard in shards:
            a = array.array(code)
            a.frombytes(open(os.path.join(dataset, shard["file"]), "rb").read())
            if sys.byteorder != "little":
                a.byteswap()
            for t in a:
                c[t] += 1
        for t in special:
            c[t] = 0
        return c
    train, validation = counts(m["trainShards"]), counts(m["validationShards"])
    total = sum(train) + size
    return sum(n * -math.log((train[t] + 1) / total) for t, n in enumerate(validation) if n) / sum(validation)


def unigram_of(out_dir, corpus, datasets):
    """The corpus's unigram loss, kept in OUT_DIR/<corpus>-unigram.json (computed from DATASETS/<corpus>/dataset
    the first time), or None."""
    path = os.path.join(out_dir, f"{corpus}-unigram.json")
    if not os.path.exists(path):
        dataset = os.path.join(datasets, corpus, "dataset") if datasets else None
        if not dataset or not os.path.exists(os.path.join(dataset, "manifest.json")):
            return None
        manifest = json.load(open(os.path.join(dataset, "manifest.json")))
        json.dump({"corpus": corpus, "validation_unigram_loss": round(unigram_loss(dataset), 6),
                   "train_shards": [s["fnv1a64"] for s in manifest["trainShards"]],
                   "validation_shards": [s["fnv1a64"] for s in manifest["validationShards"]],
                   "how": "tools/stages_report.py unigram_loss: mean -log p of the validation tokens under the training "
                          "split's add-one unigram frequencies, [CLS]/[SEP]/[PAD] left out"},
                  open(path, "w"), indent=1)
    return json.load(open(path))["validation_unigram_loss"]


def stage_of_base(base_path, stage):
    """(val_loss, val_accuracy) of the plain run's evaluation at `stage`, or (None, None)."""
    if not os.path.exists(base_path):
        return None, None
    for r in rows(base_path):
        if r.get("step") == stage and "val_loss" in r:
            return r["val_loss"], r["val_accuracy"]
    return None, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--probe-steps", type=int)
    ap.add_argument("--bench", help="sift bench --json output whose step section gives each model's SIFT overhead")
    ap.add_argument("--index", help="a Markdown file whose `<!-- generated: stages -->` block gets the summary and trend")
    ap.add_argument("--datasets", help="launch/stages.sh's work folder ($SIFT_WORK/stages), whose CORPUS/dataset gives "
                    "each corpus's unigram loss the first time (kept in DIR/CORPUS-unigram.json)")
    a = ap.parse_args()
    # Settings given here, else those saved in DIR/report.json by the last run (tools/regenerate_reports.sh).
    saved = settings(a.dir, {"tool": "stages_report.py", "probe_steps": a.probe_steps, "bench": a.bench},
                     {"probe_steps": 200})
    a.probe_steps, a.bench = saved["probe_steps"], saved.get("bench")
    n_full, n_short = a.probe_steps, a.probe_steps * 3 // 4
    overhead = {}
    if a.bench:
        for row in json.load(open(a.bench)).get("steps", []):
            if (row.get("step") == "sift" and row.get("exit_layer") == 1 and row.get("reuse_scoring_forward")
                    and row.get("score_vocabulary") == 2048 and "overhead" in row):
                overhead[row["config"]] = row["overhead"]

    table = []   # one row per (corpus, model, stage)
    for d in sorted(glob.glob(os.path.join(a.dir, "*-*-[0-9]*/"))):
        m = re.match(r"(.+)-([^-]+)-(\d+)$", os.path.basename(d.rstrip("/")))
        if not m:
            continue
        corpus, model, stage = m.group(1), m.group(2), int(m.group(3))
        base_loss, base_acc = stage_of_base(metrics_path(a.dir, f"{corpus}-{model}-base"), stage)
        seeds = sorted({int(s) for s in re.findall(r"-s(\d+)\.jsonl(?:\.gz)?", " ".join(os.listdir(d)))})
        per_seed = []
        for seed in seeds:
            vf = final_eval(metrics_path(d, f"vanilla-full-s{seed}"))
            vs = final_eval(metrics_path(d, f"vanilla-short-s{seed}"))
            ss = final_eval(metrics_path(d, f"sift-short-s{seed}"))
            if not (vf and vs and ss):
                continue
            g, n_star, extrapolated = gain(n_short, n_full, vs[1], vf[1], ss[1])
            early = any(lr_reached_zero_early(metrics_path(d, f"{k}-s{seed}"))
                        for k in ("vanilla-full", "vanilla-short", "sift-short"))
            # Accuracy priced the same way: higher is better, so it is the loss arithmetic on −accuracy.
            acc_g, _, acc_extrapolated = gain(n_short, n_full, -vs[2], -vf[2], -ss[2])
            per_seed.append(dict(seed=seed, vf=vf, vs=vs, ss=ss, gain=g, n_star=n_star,
                                 acc_gain=acc_g, acc_extrapolated=acc_extrapolated,
                                 extrapolated=extrapolated, early=early, flat=vs[1] <= vf[1]))
        fid = {}
        fpath = os.path.join(d, "fidelity.json")
        if os.path.exists(fpath):
            for r in json.load(open(fpath)).get("fidelity", []):
                fid[r["exit_layer"]] = (r.get("spearman"), r.get("top_overlap"))
        if per_seed:
            unigram = unigram_of(a.dir, corpus, a.datasets)
            learned = 1 - base_loss / unigram if unigram and base_loss is not None else None
            table.append(dict(corpus=corpus, model=model, stage=stage, base_loss=base_loss,
                              base_acc=base_acc, seeds=per_seed, fidelity=fid, learned=learned))

    out = ["# Gain per backpropagated sample against the stage of training", "",
           "Written by `tools/stages_report.py` from the logs of `launch/stages.sh` (every figure below is computed",
           "from them). Each row: a vanilla warm start at the given step of one plain run (12,000-step schedule, lr 1e-3,",
           f"b 32, seed 7); from it, per seed, vanilla for {n_full} and for {n_short} steps and `sift train --policy sift`'s",
           f"defaults for {n_short} steps, each with its own schedule (lr 1e-3, 30 warm-up steps, linear decay to 0),",
           "on a fixed 2,800-sequence subset; final validation loss on the held-out split. Gain = 1 − "
           f"{n_short} / n*, where n* is the step budget at which vanilla's loss (linear between its {n_short}- and "
           f"{n_full}-step runs) reaches SIFT's; `*` marks n* outside [{n_short}, {n_full}] (extrapolated). The last two "
           "columns price accuracy the same way (vanilla's final accuracy linear between its two budgets; — where it "
           "did not rise).", "",
           "| corpus | model | stage (step) | warm start: val loss / acc | seed | vanilla N | vanilla 3N/4 | SIFT 3N/4 | n* | gain "
           "| accuracy: vanilla N / 3N/4 / SIFT 3N/4 | gain on accuracy |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        for i, s in enumerate(t["seeds"]):
            head = (f"| {t['corpus']} | {t['model']} | {t['stage']} | "
                    + (f"{t['base_loss']:.4f} / {100 * t['base_acc']:.2f}%" if t["base_loss"] is not None else "—")
                    if i == 0 else "| | | | ")
            if s["flat"]:
                # Vanilla's N-step run ended no lower than its 3N/4-step run: the probe cannot price the gain.
                behind = s["ss"][1] > s["vs"][1]
                gtxt = f"— (undefined†; SIFT {'behind' if behind else 'ahead of'} vanilla at 3N/4)"
            else:
                gtxt = f"{100 * s['gain']:+.1f}%{'*' if s['extrapolated'] else ''}"
            ntxt = "—" if s["n_star"] is None else f"{s['n_star']:.0f}"
            flag = " (lr 0 early)" if s["early"] else ""
            atxt = "—" if s["acc_gain"] is None else f"{100 * s['acc_gain']:+.1f}%{'*' if s['acc_extrapolated'] else ''}"
            out.append(f"{head} | s{s['seed']} | {s['vf'][1]:.4f} | {s['vs'][1]:.4f} | {s['ss'][1]:.4f} | {ntxt} | {gtxt}{flag} "
                       f"| {100 * s['vf'][2]:.2f}% / {100 * s['vs'][2]:.2f}% / {100 * s['ss'][2]:.2f}% | {atxt} |")
    summary_at = len(out)
    out += ["", "## Summary: mean gain and its spread across seeds", "",
            "Exit layers' fidelity at each warm start: `sift bench --only fidelity` (20 pools of 43 candidates of the "
            "training data, the default scoring path: 2,048 classes, dropout as the reused forward has it) against the "
            "exact loss — Spearman of the losses and the share of the exact top b kept (`fidelity.json`).", "",
            "Learned share: 1 − the warm start's validation loss / a unigram model's (token frequencies of the training "
            "split: `CORPUS-unigram.json`), the stage `sift train --sift-start-learned` measures.", "",
            "| corpus | model | stage | warm-start accuracy | learned share | exit 1: Spearman / top-b | exit 2: Spearman / top-b | seeds | mean gain | min … max | break-even |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    series = {}
    seed_points = {}   # (model, corpus) -> [(warm-start accuracy %, gain %)] per seed
    for t in table:
        gains = [s["gain"] for s in t["seeds"] if s["gain"] is not None]
        if not gains:
            continue
        undefined = sum(s["flat"] for s in t["seeds"])
        o = overhead.get(t["model"])
        be = f"{100 * o / (1 + o):.1f}%" if o is not None else "—"
        mean = statistics.mean(gains)
        def agreement(exit_layer):
            f = t["fidelity"].get(exit_layer)
            return "—" if f is None or f[0] is None else f"{f[0]:.3f} / {f[1]:.3f}"
        out.append(f"| {t['corpus']} | {t['model']} | {t['stage']} | "
                   + (f"{100 * t['base_acc']:.2f}%" if t["base_acc"] is not None else "—")
                   + (f" | {t['learned']:.3f}" if t["learned"] is not None else " | —")
                   + f" | {agreement(1)} | {agreement(2)} | {len(gains)}{f' (+{undefined} undefined†)' if undefined else ''} | {100 * mean:+.1f}% | {100 * min(gains):+.1f}% … {100 * max(gains):+.1f}% | {be} |")
        if t["base_acc"] is not None:
            series.setdefault(f"{t['model']}, {t['corpus']}", []).append((100 * t["base_acc"], 100 * mean, 100 * min(gains), 100 * max(gains)))
            for g in gains:
                seed_points.setdefault((t["model"], t["corpus"]), []).append((100 * t["base_acc"], 100 * g))
    def break_even_note(relative_to):
        """The break-even sentence, its link to the bench file relative to the document's folder."""
        return ["", "Break-even: the gain at which SIFT's fewer steps pay for its dearer step, o / (1 + o), with o the "
                f"SIFT step overhead measured by `sift bench` in [{os.path.basename(a.bench)}]({os.path.relpath(a.bench, relative_to)}) "
                "(exit layer 1, reuse, 2,048 classes: " + ", ".join(f"{k} {100 * v:+.1f}%" for k, v in sorted(overhead.items())) + ")."]
    if any(s["flat"] for t in table for s in t["seeds"]):
        out += ["", f"† Vanilla's {n_full}-step run ended no lower than its {n_short}-step run, so its loss does not "
                f"fall with the step budget over this probe and n* is undefined: at such a stage the probe's {n_full - n_short} steps "
                "are within the seeds' noise. Such seeds are counted in the seeds column but left out of the "
                "means, spreads, trend and plot."]
    break_even_at = len(out)
    if overhead:
        out += break_even_note(a.dir)
    out += trend_section(seed_points, overhead)
    if a.index:
        # The index gets the summary and the trend (without their headings); the per-seed table stays here.
        block = out[summary_at:break_even_at] + (break_even_note(os.path.dirname(a.index)) if overhead else []) \
            + out[break_even_at + (len(break_even_note(a.dir)) if overhead else 0):]
        block = [l for l in block if not l.startswith("## ")]
        while block and not block[0]:
            block.pop(0)
        if not update_index(a.index, "stages", block):
            print(f"warning: no '<!-- generated: stages -->' block in {a.index}", file=sys.stderr)
    with open(os.path.join(a.dir, "results.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    # The per-seed gains as numbers, for tools/verdict_report.py.
    with open(os.path.join(a.dir, "verdict.json"), "w") as f:
        json.dump({"tool": "stages_report.py", "probe_steps": n_full, "stages": [
            {"corpus": t["corpus"], "model": t["model"], "stage": t["stage"], "warm_start_accuracy": t["base_acc"],
             "seeds": [{"seed": s["seed"], "gain": None if s["flat"] else s["gain"], "extrapolated": s["extrapolated"],
                        "accuracy_gain": s["acc_gain"], "accuracy_extrapolated": s["acc_extrapolated"]}
                       for s in t["seeds"]]} for t in table]}, f, indent=1)
        f.write("\n")
    if a.index:
        write_verdict(a.index)
    print("\n".join(out))
    plot(a.dir, series, overhead)


def fit(points):
    """Least-squares line gain = a + b·accuracy through per-seed points: (a, b, residual s.d., Sxx, mean x, n), or None."""
    n = len(points)
    xs = {x for x, _ in points}
    if n < 3 or len(xs) < 2:
        return None
    mx = statistics.mean(x for x, _ in points)
    my = statistics.mean(y for _, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx
    a = my - b * mx
    resid = [y - (a + b * x) for x, y in points]
    sd = (sum(r * r for r in resid) / (n - 2)) ** 0.5 if n > 2 else float("nan")
    return a, b, sd, sxx, mx, n


def trend_section(seed_points, overhead, target=64.0):
    """The fitted trend of gain against the warm start's accuracy per (model, corpus), where it crosses the
    break-even, and the gain and ratio it projects at `target` % accuracy (the paper's end point)."""
    out = ["", "## Trend: gain against the warm start's accuracy", "",
           "A least-squares line through every seed's gain (not the means) per model and corpus, with the standard "
           "error of its slope and of its value at the accuracy named; the accuracy where it crosses the model's break-even; "
           f"and its value at {target:.0f}% accuracy, the paper's end point — far outside the measured accuracies, so a "
           "projection that assumes the gain keeps changing linearly with accuracy, not a measurement. The last column "
           "applies that projected gain to BERT-base's measured overhead, (1 − gain)(1 + o_base), taking the model's gain "
           "as base's (deep12 has base's 12 layers, so its exit layer 1 is the same share of the encoder).", ""]
    rows = []
    for (model, corpus), pts in sorted(seed_points.items()):
        f = fit(pts)
        if f is None:
            rows.append(f"| {model} | {corpus} | {len(pts)} | {len({x for x, _ in pts})} | — | — | — | — |")
            continue
        a, b, sd, sxx, mx, n = f
        se_b = sd / sxx ** 0.5
        g_t = a + b * target
        se_t = sd * (1 / n + (target - mx) ** 2 / sxx) ** 0.5
        o = overhead.get(model)
        if o is not None and b != 0:
            cross = (100 * o / (1 + o) - a) / b
            lo, hi = min(x for x, _ in pts), max(x for x, _ in pts)
            if b > 0 and cross < lo:
                crossing = f"below the measured {lo:.0f}–{hi:.0f}%: the line is above break-even throughout"
            elif b > 0:
                crossing = f"{cross:.1f}%" + (" (extrapolated)" if cross > hi else "")
            else:
                crossing = f"— (the line falls; {cross:.1f}%)"
        else:
            crossing = "—"
        ob = overhead.get("base")
        ratio = (f"{(1 - (g_t + 2 * se_t) / 100) * (1 + ob):.2f} … {(1 - (g_t - 2 * se_t) / 100) * (1 + ob):.2f}"
                 if ob is not None else "—")
        rows.append(f"| {model} | {corpus} | {n} | {len({x for x, _ in pts})} | {b:+.2f} ± {se_b:.2f} | {crossing} | "
                    f"{g_t:+.1f}% ± {2 * se_t:.1f} | {ratio} |")
    out += ["| model | corpus | points (seed, stage) | stages | slope (gain points per accuracy point) | crosses break-even at "
            f"| projected gain at {target:.0f}% (± 2 s.e.) | projected base ratio |",
            "|---|---|---|---|---|---|---|---|"] + rows
    return out


def plot(directory, series, overhead):
    """gain_vs_accuracy.png: mean gain with its min…max bar against the warm start's accuracy."""
    if not series:
        return
    data = os.path.join(directory, ".gain.dat")
    with open(data, "w") as f:
        for name, pts in series.items():
            f.write(f'# {name}\n')
            for p in sorted(pts):
                f.write(" ".join(f"{v:.4f}" for v in p) + "\n")
            f.write("\n\n")
    cmds = ['set terminal pngcairo size 900,560' if has_cairo() else 'set terminal png size 900,560',
            f'set output "{os.path.join(directory, "gain_vs_accuracy.png")}"',
            'set xlabel "validation MLM accuracy of the warm start (%)"',
            'set ylabel "gain per backpropagated sample (% of vanilla steps saved)"',
            'set key top left', 'set grid', 'set offsets 1, 1, 1, 1']
    parts = [f'"{data}" index {i} using 1:2:3:4 with yerrorlines title "{name}"' for i, name in enumerate(series)]
    for model, o in sorted(overhead.items()):
        parts.append(f'{100 * o / (1 + o):.3f} with lines dashtype 2 title "break-even, {model}"')
    cmds.append("plot " + ", ".join(parts))
    try:
        subprocess.run(["gnuplot"], input="\n".join(cmds), text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"warning: no plot ({e})")
    finally:
        os.remove(data)


def has_cairo():
    try:
        r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
        return "pngcairo" in (r.stdout + r.stderr)
    except OSError:
        return False


if __name__ == "__main__":
    main()
