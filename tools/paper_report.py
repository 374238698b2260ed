#!/usr/bin/env python3
"""Turns launch/paper.sh's logs into DIR/results.md: SIFT against vanilla from scratch on the whole training
split, judged by time to a target validation accuracy (the paper's metric) and to vanilla's final loss.

Usage: paper_report.py --dir DIR [--mark 0.55] [--index FILE]
Reads DIR/<corpus>/<policy>-s<seed>.jsonl[.gz] (sift train --metrics; a resumed run logs the steps after its
checkpoint twice, and the later copy is kept), DIR/binary.txt and, when present, DIR/step-costs.json (idle
seconds per step of each policy, measured back to back by `launch/paper.sh --step-costs`).
With --index, the verdict table replaces the block `<!-- generated: paper -->` … `<!-- /generated -->` in FILE.

Targets, per corpus and seed: vanilla's best validation accuracy, the fixed mark (default 55%), and vanilla's
final validation loss. The step at which a run first reaches a target is interpolated linearly between the two
evaluations around it. Two time ratios (SIFT ÷ vanilla) are printed:
  steps × idle cost  the steps to the target, each priced at its policy's idle step cost (a SIFT run's steps
                     before selection starts cost a plain step) — timings of long runs on a machine that is
                     also building and testing are not comparable, idle costs measured back to back are;
  training clock     the runs' own clocks (evaluation off the clock), as measured, whatever else ran.
The paper's target is ≤ 0.75 on every seed. Standard library only.
"""
import argparse, json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verdict_report import write as write_verdict  # noqa: E402
from metrics_io import crossing, metrics_files, rows_by_step, update_index  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--mark", type=float, default=0.55, help="the fixed accuracy mark, a fraction (default 0.55)")
ap.add_argument("--index", help="a Markdown file whose `paper` generated block gets the verdict table")
args = ap.parse_args()
out = args.dir
CORPORA = {"gcide": "GCIDE dictionary (prose)", "licenses": "Debian copyright files (near-duplicate text)",
           "python": "Python documentation"}


def load(path):
    """A run: its evaluations [(step, clock s, val loss, val acc)], last step, whether finished, start step."""
    by_step, final = rows_by_step(path)
    steps = sorted(by_step)
    evals = [(s, by_step[s]["elapsed"], by_step[s]["val_loss"], by_step[s]["val_accuracy"])
             for s in steps if "val_loss" in by_step[s]]
    if final is not None:
        evals = [e for e in evals if e[0] < final["step"]]
        evals.append((final["step"], final["elapsed"], final["val_loss"], final["val_accuracy"]))
    # The step selection started: samples_scored counts the pool's candidates from that step on (a pool per
    # step), so the first two logged steps that scored give the pool and, back from them, the start.
    scored = [s for s in steps if by_step[s].get("samples_scored", 0) > 0]
    start = None
    if len(scored) >= 2:
        a, b = scored[0], scored[1]
        pool = (by_step[b]["samples_scored"] - by_step[a]["samples_scored"]) / (b - a)
        start = a - round(by_step[a]["samples_scored"] / pool) + 1
    masked = final.get("val_masked_tokens") if final else None
    return {"evals": evals, "last": steps[-1] if steps else 0, "finished": final is not None,
            "start": start, "masked": masked, "ranks": by_step[steps[0]].get("ranks") if steps else None}


def modeled(step, start, costs, policy):
    """Idle seconds to reach `step`: plain steps at vanilla's cost, selecting steps at SIFT's."""
    if costs is None:
        return None
    if policy == "vanilla" or start is None:
        return step * costs["vanilla"]
    return min(step, start - 1) * costs["vanilla"] + max(0.0, step - (start - 1)) * costs["sift"]


def ratio_text(r):
    return "—" if r is None else ("> 1 (never)" if r == float("inf") else f"{r:.2f}")


costs_path = os.path.join(out, "step-costs.json")
costs = json.load(open(costs_path)) if os.path.exists(costs_path) else None
binary = open(os.path.join(out, "binary.txt")).read().split("\n") if os.path.exists(os.path.join(out, "binary.txt")) else []

runs = {}
for corpus_dir in sorted(d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d))):
    for stem, path in metrics_files(os.path.join(out, corpus_dir)).items():
        m = re.fullmatch(r"(vanilla|sift)-s(\d+)", stem)
        if m:
            runs[(corpus_dir, int(m.group(2)), m.group(1))] = load(path)

lines, verdict_rows, table = [], [], []
targets = [("vanilla's best accuracy", "acc"), (f"{100 * args.mark:.0f}% accuracy", "mark"), ("vanilla's final loss", "loss")]
header = ("| corpus | seed | vanilla: final loss / acc. (best acc.) | SIFT: final loss / acc. | SIFT starts at step | "
          + " | ".join(f"to {t[0]}: steps vanilla / SIFT, ratio" for t in targets)
          + " | time ratio (steps × idle cost): best acc. / mark / loss | training-clock ratio: best acc. / mark / loss |")
table.append(header)
table.append("|" + "---|" * (5 + len(targets) + 2))
progress = []
for (corpus, seed, policy), run in sorted(runs.items()):
    if not run["finished"]:
        progress.append(f"{corpus}/{policy}-s{seed}: at step {run['last']}"
                        + (f", last evaluation {100 * run['evals'][-1][3]:.2f}% at step {run['evals'][-1][0]}" if run["evals"] else ""))
waiting = []   # finished runs whose pair has not finished yet
for (corpus, seed, policy), run in sorted(runs.items()):
    other = runs.get((corpus, seed, "sift" if policy == "vanilla" else "vanilla"))
    if run["finished"] and run["evals"] and not (other and other["finished"]):
        waiting.append(f"{corpus}/{policy}-s{seed}: final validation loss {run['evals'][-1][2]:.4f}, accuracy "
                       f"{100 * run['evals'][-1][3]:.2f}% (best {100 * max(e[3] for e in run['evals']):.2f}%) at step {run['last']}")
all_ratios = {k: [] for _, k in targets}
seed_rows = []   # per finished corpus and seed, the time ratios (steps × idle cost) for tools/verdict_report.py
for corpus, seed in sorted({(c, s) for c, s, _ in runs}):
    v, s = runs.get((corpus, seed, "vanilla")), runs.get((corpus, seed, "sift"))
    if not v or not s or not v["finished"] or not s["finished"]:
        continue
    best = max(e[3] for e in v["evals"])
    vfinal, sfinal = v["evals"][-1], s["evals"][-1]
    goals = {"acc": (3, best, True), "mark": (3, args.mark, True), "loss": (2, vfinal[2], False)}
    cells, model_ratios, clock_ratios, step_pairs = [], [], [], []
    for _, key in targets:
        index, target, higher = goals[key]
        cv, cs = crossing(v["evals"], target, index, higher), crossing(s["evals"], target, index, higher)
        step_pairs.append([None if cv is None else cv[0], None if cs is None else cs[0]])
        if cv is None:
            cells.append("vanilla never"); model_ratios.append(None); clock_ratios.append(None)
            continue
        if cs is None:
            cells.append(f"{cv[0]:.0f} / never, > 1")
            model_ratios.append(float("inf")); clock_ratios.append(float("inf"))
            all_ratios[key].append(float("inf"))
            continue
        sr = cs[0] / cv[0]
        mv, ms = modeled(cv[0], None, costs, "vanilla"), modeled(cs[0], s["start"], costs, "sift")
        mr = ms / mv if mv else None
        cr = cs[1] / cv[1] if cv[1] > 0 else None
        cells.append(f"{cv[0]:.0f} / {cs[0]:.0f}, {sr:.2f}")
        model_ratios.append(mr); clock_ratios.append(cr)
        all_ratios[key].append(mr if mr is not None else sr)
    seed_rows.append({"corpus": corpus, "seed": seed, "vanilla_best_accuracy": best,
                      "vanilla_final": [vfinal[2], vfinal[3]], "sift_final": [sfinal[2], sfinal[3]],
                      **{key: (None if r is None else (None if r == float("inf") else r))
                         for (_, key), r in zip(targets, model_ratios)},
                      "sift_start": s["start"], "steps": dict(zip((key for _, key in targets), step_pairs)),
                      "never": [key for (_, key), r in zip(targets, model_ratios) if r == float("inf")]})
    table.append(f"| {corpus} | {seed} | {vfinal[2]:.4f} / {100 * vfinal[3]:.2f}% ({100 * best:.2f}%) | "
                 f"{sfinal[2]:.4f} / {100 * sfinal[3]:.2f}% | {s['start'] if s['start'] else '—'} | "
                 + " | ".join(cells) + " | " + " / ".join(ratio_text(r) for r in model_ratios)
                 + " | " + " / ".join(ratio_text(r) for r in clock_ratios) + " |")

masked = sorted({r["masked"] for r in runs.values() if r["masked"]})
# The ranks each run trained on (the results do not depend on them; launch/paper.sh's SIFT_RANKS): the usual
# count, and the runs that differ from it.
rank_counts = [r["ranks"] for r in runs.values() if r["ranks"]]
usual = max(set(rank_counts), key=rank_counts.count) if rank_counts else 2
others = {}
for (corpus, seed, policy), run in sorted(runs.items()):
    if run["ranks"] and run["ranks"] != usual:
        others.setdefault(run["ranks"], []).append(f"{corpus}/{policy}-s{seed}")
ranks_text = f"{usual} rank{'s' if usual != 1 else ''}" + "".join(
    f" ({n} rank{'s' if n != 1 else ''}: {', '.join(ids)})" for n, ids in sorted(others.items()))
lines.append("# SIFT judged the paper's way: time to a target accuracy, from scratch, on the whole training split")
lines.append("")
lines.append("Written by `tools/paper_report.py` from the logs of `launch/paper.sh` in this folder; every figure below "
             "is computed from them. BERT-mini (L4/H256/A4) from random initialisation, " + ranks_text + ", b 32, AdamW lr 1e-3 "
             "with 300 warm-up steps and linear decay to 0 at the last step, the whole training split (no subset); "
             "SIFT: `--policy sift` defaults (exit layer 1, greedy top-b, ρ 0.75), started by the trainer at learned "
             "share 0.45 (`--sift-delay 0 --sift-start-learned 0.45`). Validation every 100 steps and every 25 in "
             "the windows near the crossings" + (f", over {', '.join(f'{m:,}' for m in masked)} masked tokens" if masked else "")
             + ". Ratios are SIFT ÷ vanilla, same corpus and seed; the paper's BERT-base result is 43 h / 57 h = 0.75.")
lines.append("")
if binary:
    lines.append("Binary and machine: " + "; ".join(b for b in binary if b) + ".")
if costs:
    lines.append(f"Idle step costs (`{costs.get('command', 'launch/paper.sh --step-costs')}`, {costs.get('cpu', '?')}): "
                 f"vanilla {costs['vanilla']:.3f} s, SIFT selecting {costs['sift']:.3f} s "
                 f"({100 * (costs['sift'] / costs['vanilla'] - 1):+.1f}%).")
else:
    lines.append("Idle step costs not measured yet (`launch/paper.sh --step-costs`): the time ratio column is empty.")
lines.append("")
lines.extend(table)
lines.append("")
done = {k: v for k, v in all_ratios.items() if v}
if done:
    for _, key in targets:
        rs = all_ratios[key]
        if rs:
            name = dict((k, t) for t, k in targets)[key]
            lines.append(f"- to {name}: {len(rs)} seed(s), time ratios " + ", ".join(ratio_text(r) for r in rs)
                         + ("; ≤ 0.75 on every seed" if all(r <= 0.75 for r in rs) else "; not ≤ 0.75 on every seed")
                         + ("; SIFT faster on every seed" if all(r < 1 for r in rs) else "; SIFT not faster on every seed"))
if waiting:
    lines.append("")
    lines.append("Finished, their pair not yet: " + "; ".join(waiting) + ".")
if progress:
    lines.append("")
    lines.append("Unfinished runs: " + "; ".join(progress) + ".")
open(os.path.join(out, "results.md"), "w").write("\n".join(lines) + "\n")
with open(os.path.join(out, "verdict.json"), "w") as fh:
    json.dump({"tool": "paper_report.py", "mark": args.mark, "step_costs": costs,
               "runs": {f"{c}/{p}-s{s}": {"finished": r["finished"], "last_step": r["last"]} for (c, s, p), r in sorted(runs.items())},
               "seeds": seed_rows}, fh, indent=1)
    fh.write("\n")
with open(os.path.join(out, "report.json"), "w") as fh:
    json.dump({"tool": "paper_report.py", "mark": args.mark}, fh, indent=1)
    fh.write("\n")
update_index(args.index, "paper", table + ([""] + ["Finished, their pair not yet: " + "; ".join(waiting) + "."] if waiting else [])
             + ([""] + ["Unfinished runs: " + "; ".join(progress) + "."] if progress else []))
if args.index:
    write_verdict(args.index)
print("\n".join(lines))
