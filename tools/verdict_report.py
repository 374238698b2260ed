#!/usr/bin/env python3
"""Writes the "verdict so far" of docs/EXPERIMENTS.md from the report tools' numbers, so that no figure in it is
typed by hand.

Usage: verdict_report.py [--experiments docs/experiment] --index docs/EXPERIMENTS.md
Reads DIR/verdict.json of every folder under --experiments (written by experiment_report.py, stages_report.py and
paper_report.py next to each results.md) and replaces the block `<!-- generated: verdict -->` … `<!-- /generated -->`
in the index with one bullet per kind of evidence:
  - the timed decisions from late warm starts (folders timed-*): seeds ahead on loss and on accuracy;
  - the earlier timed rounds: configurations ahead on every seed, on each metric;
  - the per-sample probes at each stage of training (stages): stages where every priced seed gained;
  - a SIFT step's extra cost in the timed rounds;
  - the equal-budget runs from late warm starts, whole split beside subset (equal-budget);
  - the from-scratch runs (paper): time ratios to each target, or how far they are, and the share of the steps
    after SIFT's start that it saved, against the break-even of its step cost.
"A seed ahead" is a ratio below 1 (SIFT reached vanilla's final value in less time). Standard library only.
"""
import argparse, glob, json, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_io import update_index  # noqa: E402

PAPER_RATIO = 0.75


def pct(x, signed=True):
    return f"{100 * x:+.1f}%" if signed else f"{100 * x:.1f}%"


def ratio(x):
    return "> 1 (never)" if x == float("inf") else f"{x:.2f}"


def span(values, fmt):
    lo, hi = min(values), max(values)
    return fmt(lo) if fmt(lo) == fmt(hi) else f"{fmt(lo)} to {fmt(hi)}"


def load(folder):
    path = os.path.join(folder, "verdict.json")
    return json.load(open(path)) if os.path.exists(path) else None


def ahead(rows, key):
    return [r for r in rows if r[key] is not None and r[key] < 1]


def timed_late(folder, v):
    """One bullet for a timed decision from a late warm start."""
    rows, name = v["runs"], os.path.basename(folder)
    if not rows:
        return None
    n = len(rows)
    loss_ahead, acc_ahead = ahead(rows, "loss_ratio"), ahead(rows, "accuracy_ratio")
    below = [r for r in rows if r["accuracy"] < r["vanilla_accuracy"]]
    text = (f"*{name}*: SIFT reached vanilla's final loss sooner on {len(loss_ahead)} of {n} seeds"
            + (f" ({span([r['loss_ratio'] for r in loss_ahead], ratio)} of vanilla's time; the paper: {PAPER_RATIO})"
               if loss_ahead else "")
            + f", vanilla's final accuracy sooner on {len(acc_ahead)} of {n}"
            + (" (" + ", ".join(f"seed {r['seed']}: {ratio(r['accuracy_ratio'])}" for r in acc_ahead) + ")" if acc_ahead else "")
            + f", and ended below vanilla's final accuracy on {len(below)} of {n}.")
    # A loss margin smaller than vanilla's own movement between evaluations is not evidence.
    thin = [r for r in loss_ahead if r["vanilla_eval_step"] is not None
            and 0 <= r["vanilla_loss"] - r["loss"] < r["vanilla_eval_step"]]
    for r in thin:
        text += (f" Seed {r['seed']}'s final-loss margin is {r['vanilla_loss'] - r['loss']:.4f} nats, less than the "
                 f"{r['vanilla_eval_step']:.4f} by which vanilla's last evaluations move from one to the next.")
    return text


def timed_early(found):
    """One bullet for the timed rounds from early warm starts (vocab, rho, budget, reuse, policies)."""
    if not found:
        return None
    accuracies, every = [], {"loss_ratio": [], "accuracy_ratio": []}
    for folder, v in found:
        accuracies += v["vanilla_final_accuracy"] or []
        groups = {}
        for r in v["runs"] + v["budget_runs"]:
            groups.setdefault((r["corpus"], r["run"]), []).append(r)
        for (corpus, run), rows in sorted(groups.items()):
            for key in every:
                if all(r[key] is not None and r[key] < 1 for r in rows):
                    every[key].append(f"{os.path.basename(folder)}: {corpus}, {run} "
                                      f"({', '.join(ratio(r[key]) for r in rows)})")
    names = ", ".join(f"*{os.path.basename(f)}*" for f, _ in found)
    text = (f"**Timed, earlier** ({span(accuracies, lambda x: pct(x, False))} vanilla accuracy at the end; rounds {names}): ")
    parts = []
    for key, metric in (("loss_ratio", "loss"), ("accuracy_ratio", "accuracy")):
        if every[key]:
            parts.append(f"ahead of vanilla on {metric} on every seed: " + "; ".join(every[key]))
        else:
            parts.append(f"no configuration reached vanilla's final {metric} sooner on every seed")
    return text + "; ".join(parts) + "."


def per_sample(v):
    """One bullet for the stage study: per model and corpus, the stages at which every priced seed gained."""
    groups = {}
    for t in v["stages"]:
        groups.setdefault((t["model"], t["corpus"]), []).append(t)
    parts = []
    for (model, corpus), stages in sorted(groups.items()):
        stages.sort(key=lambda t: t["stage"])
        cells = []
        for key, metric in (("gain", "loss"), ("accuracy_gain", "accuracy")):
            won = []
            for t in stages:
                gains = [s[key] for s in t["seeds"] if s[key] is not None]
                undefined = len(t["seeds"]) - len(gains)
                # A stage counts when at least two seeds could be priced and every priced seed gained.
                if len(gains) >= 2 and all(g > 0 for g in gains):
                    won.append(f"{t['stage']:,} ({span(gains, pct)}"
                               + (f"; {len(gains)} of {len(t['seeds'])} seeds priced" if undefined else "") + ")")
            cells.append(f"on {metric} at stage{'s' if len(won) > 1 else ''} {', '.join(won)}" if won
                         else f"on {metric} at no stage")
        listed = ", ".join(f"{t['stage']:,}" for t in stages)
        parts.append(f"{model} on {corpus} (stages {listed}): every seed gains "
                     + "; ".join(cells))
    return ("**Per backpropagated sample** (equal-schedule probes from warm starts on the subset; gain = share of "
            "vanilla's steps saved; a seed is unpriced where vanilla's own loss or accuracy did not improve over the "
            "probe): " + ". ".join(parts) + ". At the other stages the seeds scatter on both sides of 0.")


def both_metrics(found):
    """The configurations of every timed round that were ahead on every seed on loss and on accuracy."""
    groups = {}
    for folder, v in found:
        for r in v["runs"] + v["budget_runs"]:
            groups.setdefault((os.path.basename(folder), r["corpus"], r["run"]), []).append(r)
    won = [k for k, rows in sorted(groups.items())
           if all(r[m] is not None and r[m] < 1 for r in rows for m in ("loss_ratio", "accuracy_ratio"))]
    seeds = sorted({len(rows) for rows in groups.values()})
    text = (f"**Ahead of vanilla on every seed on both loss and accuracy:** {len(won)} of the {len(groups)} timed "
            f"configurations ({span(seeds, str)} seeds each)")
    return text + (": " + "; ".join(f"{f}: {c}, {r}" for f, c, r in won) + "." if won else ".")


def step_cost(found):
    parts = [f"*{os.path.basename(f)}* {span([r['step_overhead'] for r in v['runs']], pct)}"
             for f, v in found if v["runs"]]
    return "**Step cost:** a SIFT step cost more than a plain one in every timed round: " + ", ".join(parts) + "." if parts else None


def paper_targets(mark):
    """The from-scratch runs' targets, as paper_report.py keys them: (key, name)."""
    return (("acc", "vanilla's best accuracy"), ("mark", f"{100 * mark:.0f}% accuracy"), ("loss", "vanilla's final loss"))


def paper(v):
    seeds, runs = v["seeds"], v["runs"]
    head = "**From scratch on the whole training split, judged on accuracy** (section *The paper's experiment*): "
    if not seeds:
        done = sum(r["finished"] for r in runs.values())
        return head + (f"being measured; {done} of the {len(runs)} runs committed so far have finished, "
                       "none of them a vanilla/SIFT pair yet." if runs else "being measured; no run has finished yet.")
    costs = v.get("step_costs")
    parts = []
    for key, target in paper_targets(v["mark"]):
        rs = [float("inf") if key in s["never"] else s[key] for s in seeds if s[key] is not None or key in s["never"]]
        if rs:
            parts.append(f"to {target} {', '.join(ratio(r) for r in rs)} "
                         f"({sum(r < 1 for r in rs)} of {len(rs)} seeds faster, {sum(r <= PAPER_RATIO for r in rs)} at ≤ {PAPER_RATIO})")
    text = head + f"{len(seeds)} seed(s) finished; time ratios (steps × idle step cost): " + "; ".join(parts) + "."
    over = costs["sift"] / costs["vanilla"] - 1 if costs else None
    even = over / (1 + over) if costs else None
    saved = after_start(seeds, v["mark"])
    if saved:
        starts = [s["sift_start"] for s in seeds if s.get("sift_start")]
        def note(key, rs):
            n = sum(1 for s in seeds if key in s.get("never", []))
            parts = []
            if even is not None:
                where = "below" if max(rs) < even else "above" if min(rs) >= even else "on both sides of"
                scope = ("the seeds" if where == "on both sides of" else
                         "every seed" if not n else f"the {len(rs)} seed{'s' if len(rs) != 1 else ''} that reached it")
                parts.append(f"{where} the break-even on {scope}")
            if n:
                parts.append(f"{n} seed{'s' if n != 1 else ''} never reached it")
            return f" ({'; '.join(parts)})" if parts else ""
        text += (f" After SIFT started (step {span(starts, lambda x: f'{x:,}')}) it saved, of vanilla's steps from there: "
                 + ", ".join(f"to {target} {span(rs, lambda x: pct(x, False))}{note(key, rs)}"
                             for key, target, rs in saved) + ".")
    if costs:
        text += (f" At the idle step costs ({pct(over)} a SIFT step) the break-even is {pct(even, False)} of the steps "
                 f"SIFT trains; {PAPER_RATIO} needs {pct(1 - PAPER_RATIO / (1 + over), False)} of all steps.")
    return text


def after_start(seeds, mark):
    """[(key, target, [share of vanilla's steps after SIFT's start that SIFT saved, per seed])]: the gain per step
    once selection runs, (v − s) / (v − start + 1) for steps v and s to the target; the steps before the start
    are the same run's. Only seeds whose log rows carry both step counts and whose vanilla crossed after the start
    (a seed on which SIFT never reached the target is named apart)."""
    out = []
    for key, target in paper_targets(mark):
        rs = []
        for s in seeds:
            v_steps, s_steps = (s.get("steps") or {}).get(key, [None, None])
            start = s.get("sift_start")
            if v_steps is not None and s_steps is not None and start and v_steps >= start:
                rs.append((v_steps - s_steps) / (v_steps - start + 1))
        if rs:
            out.append((key, target, rs))
    return out


def write(index, experiments=None):
    """Rewrites the verdict block of `index` from the verdict.json files under `experiments` (default: the
    folder `experiment` beside the index) and returns its lines; the report tools call it after their own block."""
    root = experiments or os.path.join(os.path.dirname(os.path.abspath(index)), "experiment")
    found = [(f.rstrip("/"), load(f)) for f in sorted(glob.glob(os.path.join(root, "*/")))]
    found = [(f, v) for f, v in found if v]
    timed = [(f, v) for f, v in found if v["tool"] == "experiment_report.py"]
    late = [(f, v) for f, v in timed if os.path.basename(f).startswith("timed-")]
    early = [(f, v) for f, v in timed if not os.path.basename(f).startswith("timed-")]
    bullets = [both_metrics(timed)] if timed else []
    late_texts = [t for t in (timed_late(f, v) for f, v in late) if t]
    if late_texts:
        bullets.append("**Timed, late in training:** " + " ".join(late_texts))
    bullets.append(timed_early(early))
    bullets += [per_sample(v) for f, v in found if v["tool"] == "stages_report.py"]
    bullets.append(step_cost(timed))
    bullets += [equal_budget(v) for f, v in found if v["tool"] == "equal_budget_report.py"]
    bullets += [paper(v) for f, v in found if v["tool"] == "paper_report.py"]
    block = [f"- {b}" for b in bullets if b]
    if not update_index(index, "verdict", block):
        print(f"warning: no '<!-- generated: verdict -->' block in {index}", file=sys.stderr)
    return block


def equal_budget(v):
    """One bullet for the equal-budget runs from late warm starts (launch/equal_budget.sh)."""
    head = ("**From late warm starts with equal budgets priced in steps, the whole split beside the subset** "
            "(section *Equal budgets*): ")
    rows = v["runs"]
    if not rows:
        return head + "being measured; no vanilla/SIFT pair has finished yet."
    parts = []
    for stage, regime in sorted({(r["stage"], r["regime"]) for r in rows}):
        group = [r for r in rows if r["stage"] == stage and r["regime"] == regime]
        # None: vanilla ended no better than the warm start (no target); such seeds are left out.
        acc = [float("inf") if "accuracy_ratio" in r["never"] else r["accuracy_ratio"] for r in group]
        loss = [float("inf") if "loss_ratio" in r["never"] else r["loss_ratio"] for r in group]
        acc, loss = [x for x in acc if x is not None], [x for x in loss if x is not None]
        parts.append(f"{stage}, {regime}: time to vanilla's final accuracy {', '.join(ratio(x) for x in acc)} "
                     f"({sum(x < 1 for x in acc)} of {len(acc)} ahead, {sum(x <= PAPER_RATIO for x in acc)} at ≤ {PAPER_RATIO}); "
                     f"to its final loss {', '.join(ratio(x) for x in loss)} ({sum(x < 1 for x in loss)} of {len(loss)} ahead)")
    return head + "; ".join(parts) + "."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--experiments", help="the folder of experiment folders (default: docs/experiment beside the index)")
    ap.add_argument("--index", required=True)
    a = ap.parse_args()
    print("\n".join(write(a.index, a.experiments)))


if __name__ == "__main__":
    main()
