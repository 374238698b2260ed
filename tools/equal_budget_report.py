#!/usr/bin/env python3
"""Turns launch/equal_budget.sh's logs into DIR/results.md, DIR/verdict.json and the `equal-budget` block of the
index: SIFT against vanilla from a late warm start with equal budgets priced in steps, on the whole training split
and on the fixed subset.

Usage: equal_budget_report.py --dir DIR [--budget S] [--stages-dir DIR/../stages] [--index FILE]
Reads DIR/STAGE/REGIME-POLICY-sSEED.jsonl[.gz] (sift train --metrics), DIR/STAGE/step-costs.json (idle seconds per
step of each policy, launch/step_costs.sh) and DIR/binary.txt; the warm start's own evaluation (at step STEP of the
replay that made it, DIR/STAGE/warm-start.jsonl.gz, else of the plain run's log in --stages-dir,
CORPUS-MODEL-base.jsonl.gz) is every run's point 0. Settings not given are read from
DIR/report.json.

Per stage, regime and seed: vanilla's budget is its steps × c_vanilla (= the budget, up to rounding); SIFT's time to
a target is the step at which it first reaches it (linear between evaluations) × c_sift. The ratios printed are
SIFT's time to vanilla's final validation loss, and to vanilla's final validation accuracy, ÷ vanilla's budget
("> 1" when SIFT never reached it). The paper's target is ≤ 0.75 on every seed. Standard library only.
"""
import argparse, json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verdict_report import write as write_verdict  # noqa: E402
from metrics_io import crossing, metrics_files, metrics_path, read_rows, settings, update_index  # noqa: E402

PAPER_RATIO = 0.75


def evaluations(path):
    """[(step, 0, val loss, val acc)] of a run, the final evaluation last; (rows, finished)."""
    by_step, final = {}, None
    for r in read_rows(path):
        if r.get("final"):
            final = r
        elif "step" in r and "val_loss" in r:
            by_step[r["step"]] = r
    evals = [(s, 0.0, by_step[s]["val_loss"], by_step[s]["val_accuracy"]) for s in sorted(by_step)]
    if final is not None:
        evals = [e for e in evals if e[0] < final["step"]] + [(final["step"], 0.0, final["val_loss"], final["val_accuracy"])]
    return evals, final is not None


def warm_start_point(folder, stages_dir, stage):
    """(0, 0, loss, accuracy) of the warm start, or None: the evaluation at the stage's step of the replay that made
    the folder's warm start (FOLDER/warm-start.jsonl.gz, committed beside the runs), else of the plain run."""
    corpus, model, step = stage.rsplit("-", 2)
    for path in (metrics_path(folder, "warm-start"), metrics_path(stages_dir, f"{corpus}-{model}-base")):
        if not os.path.exists(path):
            continue
        for r in read_rows(path):
            if r.get("step") == int(step) and "val_loss" in r:
                return (0, 0.0, r["val_loss"], r["val_accuracy"])
    return None


def ratio_text(r):
    if r is None:
        return "— (vanilla ended no better than the warm start)"
    return "> 1 (never)" if r == float("inf") else f"{r:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--budget", type=int)
    ap.add_argument("--stages-dir", help="launch/stages.sh's committed folder (default: DIR/../stages)")
    ap.add_argument("--index", help="a Markdown file whose `<!-- generated: equal-budget -->` block gets the table")
    a = ap.parse_args()
    config = settings(a.dir, {"tool": "equal_budget_report.py", "budget": a.budget}, {"budget": 330})
    budget = int(config["budget"])
    stages_dir = a.stages_dir or os.path.join(os.path.dirname(os.path.normpath(a.dir)), "stages")
    binary = [l for l in open(os.path.join(a.dir, "binary.txt")).read().split("\n") if l] \
        if os.path.exists(os.path.join(a.dir, "binary.txt")) else []

    table = ["| stage | regime | seed | steps: vanilla / SIFT | vanilla: final loss / acc. | SIFT: final loss / acc. "
             "| SIFT's time to vanilla's final loss ÷ budget | SIFT's time to vanilla's final accuracy ÷ budget |",
             "|---|---|---|---|---|---|---|---|"]
    rows, costs_lines, unfinished = [], [], []
    for stage in sorted(d for d in os.listdir(a.dir) if os.path.isdir(os.path.join(a.dir, d))):
        folder = os.path.join(a.dir, stage)
        costs_path = os.path.join(folder, "step-costs.json")
        if not os.path.exists(costs_path):
            continue
        costs = json.load(open(costs_path))
        costs_lines.append(f"{stage}: vanilla {costs['vanilla']:.3f} s, SIFT {costs['sift']:.3f} s "
                           f"({100 * (costs['sift'] / costs['vanilla'] - 1):+.1f}%; {costs.get('cpu', '?')})")
        start = warm_start_point(folder, stages_dir, stage)
        runs = {}
        for stem, path in metrics_files(folder).items():
            m = re.fullmatch(r"(whole|subset)-(vanilla|sift)-s(\d+)", stem)
            if m:
                runs[(m.group(1), int(m.group(3)), m.group(2))] = evaluations(path)
        for (regime, seed) in sorted({(r, s) for r, s, _ in runs}, key=lambda k: (k[0] != "whole", k[1])):
            v, s = runs.get((regime, seed, "vanilla")), runs.get((regime, seed, "sift"))
            if not (v and s and v[1] and s[1]):
                unfinished.append(f"{stage}/{regime} seed {seed}")
                continue
            v_evals, s_evals = v[0], ([start] if start else []) + s[0]
            v_end, s_end = v_evals[-1], s_evals[-1]
            spent = v_end[0] * costs["vanilla"]
            ratios = []
            for index, higher in ((2, False), (3, True)):
                # Vanilla ending no better than the warm start began leaves no target to race to.
                if start and ((start[index] >= v_end[index]) if higher else (start[index] <= v_end[index])):
                    ratios.append(None)
                    continue
                hit = crossing(s_evals, v_end[index], index, higher)
                ratios.append(float("inf") if hit is None else hit[0] * costs["sift"] / spent)
            rows.append({"stage": stage, "regime": regime, "seed": seed, "steps": [v_end[0], s_end[0]],
                         "vanilla_final": [v_end[2], v_end[3]], "sift_final": [s_end[2], s_end[3]],
                         "loss_ratio": ratios[0], "accuracy_ratio": ratios[1]})
            table.append(f"| {stage} | {regime} | {seed} | {v_end[0]} / {s_end[0]} | {v_end[2]:.4f} / {100 * v_end[3]:.2f}% | "
                         f"{s_end[2]:.4f} / {100 * s_end[3]:.2f}% | {ratio_text(ratios[0])} | {ratio_text(ratios[1])} |")
    counts = []
    for stage, regime in sorted({(r["stage"], r["regime"]) for r in rows}):
        group = [r for r in rows if r["stage"] == stage and r["regime"] == regime]
        n = len(group)
        def ahead(key, bound=1.0, strict=True):
            return sum(r[key] is not None and (r[key] < bound if strict else r[key] <= bound) for r in group)
        counts.append(f"{stage}, {regime}: {ahead('loss_ratio')} of {n} on loss, {ahead('accuracy_ratio')} of {n} on accuracy "
                      f"({ahead('accuracy_ratio', PAPER_RATIO, strict=False)} at ≤ {PAPER_RATIO})")
    block = table + ([""] + ["Seeds ahead of vanilla (ratio below 1): " + "; ".join(counts) + "."] if counts else
                     ["", "No vanilla/SIFT pair has finished yet."])
    if unfinished:
        block += ["", "Unfinished: " + "; ".join(unfinished) + "."]

    lines = ["# SIFT against vanilla from late warm starts with equal budgets: the whole split beside the subset", "",
             "Written by `tools/equal_budget_report.py` from the logs of `launch/equal_budget.sh` in this folder; every "
             f"figure below is computed from them. Per warm start, regime and seed, both policies get {budget} idle seconds "
             "priced in steps at their own idle step cost (vanilla round(B / c_vanilla) steps, SIFT round(B / c_sift)), "
             "each with its own schedule (lr 1e-3, 30 warm-up steps, linear decay to 0 at its last step); `whole` trains on "
             "the whole training split, `subset` on the fixed 2,800-sequence subset of the earlier timed rounds. SIFT is "
             "`--policy sift`'s defaults (exit layer 1, greedy top-b, ρ 0.75) from step 1. Validation on 1,700 held-out "
             "sequences every 20 steps. Ratios are SIFT's time ÷ vanilla's budget; the paper's is 0.75.", ""]
    if binary:
        lines += ["Binary and machine: " + "; ".join(binary) + ".", ""]
    if costs_lines:
        lines += ["Idle step costs (`launch/equal_budget.sh --step-costs`): " + "; ".join(costs_lines) + ".", ""]
    lines += block
    with open(os.path.join(a.dir, "results.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    with open(os.path.join(a.dir, "verdict.json"), "w") as fh:
        json.dump({"tool": "equal_budget_report.py", "budget": budget,
                   "runs": [{**r, **{k: (None if r[k] == float("inf") else r[k]) for k in ("loss_ratio", "accuracy_ratio")},
                             "never": [k for k in ("loss_ratio", "accuracy_ratio") if r[k] == float("inf")]} for r in rows]},
                  fh, indent=1)
        fh.write("\n")
    if a.index:
        if not update_index(a.index, "equal-budget", block):
            print(f"warning: no '<!-- generated: equal-budget -->' block in {a.index}", file=sys.stderr)
        write_verdict(a.index)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
