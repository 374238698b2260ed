#!/usr/bin/env python3
"""Turns launch/lamb_compare.sh's logs into DIR/results.md and DIR/verdict.json: LAMB against AdamW at a large
global batch from the quickstart's warm start, validation loss and accuracy against samples seen.

Usage: lamb_report.py --dir DIR [--index FILE]
Reads DIR/b<batch>/<optimizer>-lr<LR>-s<seed>.jsonl[.gz] (sift train --metrics; a resumed run logs the steps after its
checkpoint twice, and the later copy is kept), DIR/warm-start.jsonl[.gz] (the warm start's own run, when the
script made it), DIR/binary.txt and DIR/warm-start.txt. Samples seen = step × the global batch, read from the
logs (samples backpropagated per step; every step of a `--policy vanilla` run backpropagates the whole batch).
Runs are compared only with runs of the same global batch (the same b<batch> folder).
With --index, the summary replaces the block `<!-- generated: lamb-vs-adamw -->` … `<!-- /generated -->` in FILE
and in TRAINING.md beside it, where those blocks exist.

The verdict compares, seed by seed, each LAMB configuration with each AdamW one on the final evaluation: LAMB is
ahead on loss when its final validation loss is lower, on accuracy when its final accuracy is higher. It also
gives the samples LAMB needed to reach AdamW's final loss and accuracy (interpolated between evaluations).
Standard library only.
"""
import argparse, json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_io import crossing, metrics_files, rows_by_step, update_index  # noqa: E402

RUN = re.compile(r"(adamw|lamb)-lr([0-9.eE+-]+)-s(\d+)")
NAMES = {"adamw": "AdamW", "lamb": "LAMB"}


def load(path):
    """A run: evaluations [(step, samples seen, val loss, val acc)], last step, finished, batch, peak lr,
    masked validation tokens."""
    by_step, final = rows_by_step(path)
    steps = sorted(by_step)
    batches = [by_step[s]["samples_backpropagated"] / s for s in steps if s > 0 and "samples_backpropagated" in by_step[s]]
    batch = round(batches[-1]) if batches else None
    seen = (lambda s: s * batch) if batch else (lambda s: None)
    evals = [(s, seen(s), by_step[s]["val_loss"], by_step[s]["val_accuracy"]) for s in steps if "val_loss" in by_step[s]]
    if final is not None:
        evals = [e for e in evals if e[0] < final["step"]]
        evals.append((final["step"], seen(final["step"]), final["val_loss"], final["val_accuracy"]))
    lrs = [by_step[s]["lr"] for s in steps if "lr" in by_step[s]]
    return {"evals": evals, "last": steps[-1] if steps else (final["step"] if final else 0),
            "finished": final is not None, "batch": batch, "peak_lr": max(lrs) if lrs else None,
            "masked": final.get("val_masked_tokens") if final else None}


def pct(x):
    return f"{100 * x:.2f}%"


def spread(values, fmt):
    """mean, with the seeds' range when there is more than one."""
    mean = sum(values) / len(values)
    return fmt(mean) if len(values) == 1 else f"{fmt(mean)} [{fmt(min(values))}–{fmt(max(values))}]"


def samples_text(n):
    return "never" if n is None else f"{n:,.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--index", help="a Markdown file whose `lamb-vs-adamw` generated block (and TRAINING.md's "
                                    "beside it) gets the summary")
    a = ap.parse_args()
    out = a.dir

    runs = {}  # (batch, optimizer, lr, seed) → run
    for folder in sorted(os.listdir(out)):
        b = re.fullmatch(r"b(\d+)", folder)
        if not b or not os.path.isdir(os.path.join(out, folder)):
            continue
        for stem, path in metrics_files(os.path.join(out, folder)).items():
            m = RUN.fullmatch(stem)
            if m:
                runs[(int(b.group(1)), m.group(1), m.group(2), int(m.group(3)))] = load(path)
    warm_path = metrics_files(out, "warm-start").get("warm-start")
    warm = load(warm_path) if warm_path else None
    binary = [b for b in open(os.path.join(out, "binary.txt")).read().split("\n") if b] \
        if os.path.exists(os.path.join(out, "binary.txt")) else []

    def config_key(c):  # (batch, optimizer, lr): by batch, AdamW first, then by rate
        return (c[0], 0 if c[1] == "adamw" else 1, float(c[2]))

    def name(k):  # a run's or a configuration's name: bBATCH/OPTIMIZER-lrLR[-sSEED]
        return f"b{k[0]}/{k[1]}-lr{k[2]}" + (f"-s{k[3]}" if len(k) > 3 else "")

    configs = sorted({k[:3] for k in runs}, key=config_key)
    finished = {k: r for k, r in runs.items() if r["finished"] and r["evals"]}
    several = len({c[0] for c in configs}) > 1
    label = {c: f"{NAMES[c[1]]} lr {c[2]}" + (f", b {c[0]}" if several else "") for c in configs}

    lines = ["# LAMB against AdamW at a large global batch, from the quickstart's warm start", ""]
    batches = sorted({r["batch"] for r in runs.values() if r["batch"]})
    masked = sorted({r["masked"] for r in runs.values() if r["masked"]})
    lines.append("Written by `tools/lamb_report.py` from the logs of `launch/lamb_compare.sh` in this folder; every "
                 "figure below is computed from them. BERT-mini on the Python documentation corpus, 2 ranks, "
                 "`--policy vanilla`"
                 + (f", global batch {', '.join(str(b) for b in batches)}" if batches else "")
                 + ", warm-up over 10% of the steps and linear decay to 0 at the last step; validation"
                 + (f" over {masked[0]:,}" + (f"–{masked[-1]:,}" if len(masked) > 1 else "") + " masked tokens" if masked else "")
                 + " (the masks are keyed by the seed: both optimizers of a seed are scored on the same tokens, the "
                 "warm start's evaluation on its own seed's). Samples seen count from the warm start.")
    lines.append("")
    if warm and warm["evals"]:
        e = warm["evals"][-1]
        lines.append(f"Warm start: the quickstart's run (`launch/quickstart.sh`'s training command: SIFT, b 32, AdamW lr "
                     f"1e-3, 300 steps), ending at step {warm['last']} with validation loss {e[2]:.4f} and accuracy "
                     f"{pct(e[3])}" + (" (its log: warm-start.jsonl.gz)." if warm["finished"] else " (unfinished)."))
    elif os.path.exists(os.path.join(out, "warm-start.txt")):
        lines.append("Warm start: given by `--warm-start` (no log in this folder); "
                     + "; ".join(x for x in open(os.path.join(out, "warm-start.txt")).read().split("\n") if x) + ".")
    if binary:
        lines.append("Binary and machine: " + "; ".join(binary) + ".")
    if lines[-1]:
        lines.append("")

    # Per run: the final and best evaluations.
    table = ["| configuration | seed | peak lr (logged) | steps | samples seen | final val. loss | final accuracy | best accuracy (at samples) |",
             "|---|---|---|---|---|---|---|---|"]
    for k, r in sorted(finished.items(), key=lambda kv: (config_key(kv[0][:3]), kv[0][3])):
        final, best = r["evals"][-1], max(r["evals"], key=lambda e: e[3])
        table.append(f"| {label[k[:3]]} | {k[3]} | {r['peak_lr']:.3g} | {r['last']} | {samples_text(final[1])} | "
                     f"{final[2]:.4f} | {pct(final[3])} | {pct(best[3])} ({samples_text(best[1])}) |")
    if finished:
        lines += ["## Final and best evaluation of each run", ""] + table + [""]

    # Against samples seen: mean over the finished seeds of each configuration, with their range.
    done_configs = [c for c in configs if any(k[:3] == c for k in finished)]
    if done_configs:
        series = {}
        for k, r in finished.items():
            for step, seen, loss, acc in r["evals"]:
                series.setdefault((step, seen), {}).setdefault(k[:3], []).append((loss, acc))
        lines += ["## Validation against samples seen", "",
                  "Mean over the seeds [their range]; loss in nats, accuracy of the masked tokens.", "",
                  "| step | samples seen | " + " | ".join(f"{label[c]}: loss | {label[c]}: accuracy" for c in done_configs) + " |",
                  "|---|---|" + "---|---|" * len(done_configs)]
        if warm and warm["finished"]:
            e = warm["evals"][-1]
            lines.append("| warm start | 0 |" + f" {e[2]:.4f} | {pct(e[3])} |" * len(done_configs))
        for (step, seen), cells in sorted(series.items()):
            row = f"| {step} | {samples_text(seen)} |"
            for c in done_configs:
                v = cells.get(c)
                row += (f" {spread([x[0] for x in v], lambda x: f'{x:.4f}')} | {spread([x[1] for x in v], pct)} |" if v else " — | — |")
            lines.append(row)
        lines.append("")

    # The verdict: each LAMB configuration against each AdamW one, seed by seed.
    pairs, summary = [], []
    for lc in [c for c in configs if c[1] == "lamb"]:
        for ac in [c for c in configs if c[1] == "adamw" and c[0] == lc[0]]:
            seeds = sorted(k[3] for k in finished if k[:3] == lc and ac + (k[3],) in finished)
            if not seeds:
                continue
            rows = []
            for s in seeds:
                lr_, ar = finished[lc + (s,)], finished[ac + (s,)]
                lf, af = lr_["evals"][-1], ar["evals"][-1]
                to_loss = crossing(lr_["evals"], af[2], 2, False)
                to_acc = crossing(lr_["evals"], af[3], 3, True)
                rows.append({"seed": s, "lamb_final": [lf[2], lf[3]], "adamw_final": [af[2], af[3]],
                             "loss_ahead": lf[2] < af[2], "accuracy_ahead": lf[3] > af[3],
                             "lamb_samples_to_adamw_loss": to_loss[1] if to_loss else None,
                             "lamb_samples_to_adamw_accuracy": to_acc[1] if to_acc else None,
                             "adamw_samples": af[1]})
            n = len(rows)
            k_loss, k_acc = sum(r["loss_ahead"] for r in rows), sum(r["accuracy_ahead"] for r in rows)
            k_both = sum(r["loss_ahead"] and r["accuracy_ahead"] for r in rows)
            d_loss = sum(r["lamb_final"][0] - r["adamw_final"][0] for r in rows) / n
            d_acc = sum(r["lamb_final"][1] - r["adamw_final"][1] for r in rows) / n
            pairs.append({"batch": lc[0], "lamb": name(lc), "adamw": name(ac), "seeds": rows, "n": n,
                          "loss_ahead": k_loss, "accuracy_ahead": k_acc, "both_ahead": k_both,
                          "mean_loss_difference": d_loss, "mean_accuracy_difference": d_acc})
            text = (f"{label[lc]} against {label[ac]}: LAMB ahead on {k_both} of {n} seed{'s' if n > 1 else ''} on both "
                    f"metrics (final loss lower on {k_loss}, final accuracy higher on {k_acc}); mean final loss LAMB − AdamW "
                    f"{d_loss:+.4f} nats, accuracy {100 * d_acc:+.2f} points. Samples LAMB needed for AdamW's final loss: "
                    + ", ".join(f"seed {r['seed']}: {samples_text(r['lamb_samples_to_adamw_loss'])}" for r in rows)
                    + f" (AdamW: {samples_text(rows[0]['adamw_samples'])}).")
            summary.append(text)
    if summary:
        lines += ["## Verdict", ""] + [f"- {t}" for t in summary] + [""]

    progress = [f"{name(k)}: at step {r['last']}" for k, r in sorted(runs.items()) if not r["finished"]]
    pending = sorted(name(k) for k in finished
                     if not any(j[0] == k[0] and j[1] != k[1] and j[3] == k[3] for j in finished))
    if pending:
        lines += ["Finished, no run of the other optimizer with the same seed yet: " + ", ".join(pending) + ".", ""]
    if progress:
        lines += ["Unfinished runs: " + "; ".join(progress) + ".", ""]
    if not runs:
        lines += ["No run has been logged yet.", ""]
    open(os.path.join(out, "results.md"), "w").write("\n".join(lines).rstrip("\n") + "\n")
    with open(os.path.join(out, "verdict.json"), "w") as fh:
        json.dump({"tool": "lamb_report.py",
                   "runs": {name(k): {"finished": r["finished"], "last_step": r["last"]} for k, r in sorted(runs.items())},
                   "pairs": pairs}, fh, indent=1)
        fh.write("\n")
    with open(os.path.join(out, "report.json"), "w") as fh:
        json.dump({"tool": "lamb_report.py"}, fh, indent=1)
        fh.write("\n")
    if a.index:
        block = ([f"- {t}" for t in summary] if summary else
                 ["Not yet run: no LAMB/AdamW pair with the same seed has finished (`launch/lamb_compare.sh`)."])
        block.append("")
        link = os.path.relpath(os.path.join(out, "results.md"), os.path.dirname(os.path.abspath(a.index)))
        block.append(f"Tables: [{link}]({link}).")
        update_index(a.index, "lamb-vs-adamw", block)
        update_index(os.path.join(os.path.dirname(os.path.abspath(a.index)), "TRAINING.md"), "lamb-vs-adamw", block)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
