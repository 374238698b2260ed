#!/usr/bin/env python3
"""The results of launch/prepare_scaling.sh: one JSON line per timed run, in rounds of the same
configurations run back to back, turned into the scaling table of docs/BENCHMARKS.md.

  prepare_scaling_report.py rounds RESULTS
      The number of complete rounds in RESULTS (the script measures the rest).
  prepare_scaling_report.py table RESULTS
      Per configuration: the median wall time and, against its 1-worker baseline, the speed-up (the
      baseline's wall ÷ its wall, in the same round, times the copies of the baseline's work it does) as
      median and range over the rounds, the rounds at or above the goal (1.8×), and CPU ÷ the baseline's CPU
      (per copy). The goal's verdict is read from the median; the two independent processes at once are the
      machine's ceiling, which the verdict is put beside.
      Exit status 1, with an error line, when the preparations did not all write the same manifest.

MB is 10^6 bytes. Standard library only.
"""
import argparse, json, statistics, sys

GOAL = 1.8
CONFIGS = [  # (name, what the table calls it, baseline, copies of the baseline's work it does)
    ("prepare-1", "sift prepare, 1 thread", "prepare-1", 1),
    ("prepare-2", "sift prepare, 2 threads", "prepare-1", 1),
    ("prepare-mpi2", "sift prepare, 2 ranks × 1 thread (mpirun)", "prepare-1", 1),
    ("prepare-pair", "2 independent 1-thread sift prepare processes at once (the machine's ceiling)", "prepare-1", 2),
    ("vocab-1", "sift vocab, 1 thread", "vocab-1", 1),
    ("vocab-2", "sift vocab, 2 threads", "vocab-1", 1),
]


def read(path):
    """{round: {name: row}}, in file order; a later line for the same round and name replaces an earlier one."""
    by_round = {}
    with open(path) as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                by_round.setdefault(row["round"], {})[row["name"]] = row
    return by_round


def measured(by_round):
    """The configurations of CONFIGS that the file measures (a file written before one was added lacks it)."""
    seen = {name for runs in by_round.values() for name in runs}
    return [c for c in CONFIGS if c[0] in seen]


def complete(by_round, configs=CONFIGS):
    """The rounds in which every configuration of `configs` was measured, ascending."""
    names = {c[0] for c in configs}
    return [r for r in sorted(by_round) if names <= set(by_round[r])]


def cmd_rounds(args):
    rounds = complete(read(args.results))
    # Rounds are measured in order, so the complete ones are 1…k; a gap means a round to redo from there.
    k = 0
    while k < len(rounds) and rounds[k] == k + 1:
        k += 1
    print(k)


def cmd_table(args):
    by_round = read(args.results)
    configs = measured(by_round)
    rounds = complete(by_round, configs)
    if not rounds:
        print("error: no complete round in " + args.results, file=sys.stderr)
        return 1
    manifests = {by_round[r][c[0]]["manifest"] for r in rounds for c in configs if c[0].startswith("prepare")}
    if len(manifests) != 1:
        print("error: the preparations wrote %d different manifests" % len(manifests), file=sys.stderr)
        return 1
    first = by_round[rounds[0]]["prepare-1"]
    mb = first["bytes"] / 1e6
    out = ["%d rounds, each running the configurations below back to back on %.1f MB of text; CPU: %s; sift binary "
           "sha256 %s…" % (len(rounds), mb, first["cpu"], first["binary"]), "",
           "| configuration | median wall | MB/s (median) | speed-up: median [range] | rounds ≥ %.1f× | CPU ÷ baseline's (median) "
           "| speed-up by sift's own clock |" % GOAL,
           "|---|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    owns = {}

    def own(name):
        """Whether every round recorded sift's own seconds for `name`."""
        return all(by_round[r][name].get("own") for r in rounds)
    for name, label, base, copies in configs:
        walls = [by_round[r][name]["wall"] for r in rounds]
        wall = statistics.median(walls)
        if name == base:
            out.append("| %s | %.2f s | %.2f | 1.00× (baseline) | — | 1.00 | %s |" % (
                label, wall, mb / wall, "1.00×" if own(base) else "—"))
            continue
        speedups = [copies * by_round[r][base]["wall"] / by_round[r][name]["wall"] for r in rounds]
        cpu = [(by_round[r][name]["user"] + by_round[r][name]["sys"])
               / (copies * (by_round[r][base]["user"] + by_round[r][base]["sys"])) for r in rounds]
        s = statistics.median(speedups)
        clock = "—"
        if copies == 1 and own(name) and own(base):
            ratios = [by_round[r][base]["own"] / by_round[r][name]["own"] for r in rounds]
            clock = "%.2f× [%.2f–%.2f]" % (statistics.median(ratios), min(ratios), max(ratios))
            owns[name] = statistics.median(ratios)
        out.append("| %s | %.2f s | %.2f | %.2f× [%.2f–%.2f] | %d of %d | %.2f | %s |" % (
            label, wall, copies * mb / wall, s, min(speedups), max(speedups), sum(x >= GOAL for x in speedups), len(rounds),
            statistics.median(cpu), clock))
        if name in ("prepare-2", "prepare-mpi2"):
            verdicts.append("- %s: %.2f× median against the goal of ≥ %.1f×: **%s**%s" % (
                label, s, GOAL, "met" if s >= GOAL else "not met",
                "" if name not in owns else "; by sift's own clock, without the launch, %.2f×" % owns[name]))
    out += ["", "Goals (issue 40), read from the medians:"] + verdicts
    if any(c[0] == "prepare-pair" for c in configs):
        pair = statistics.median([2 * by_round[r]["prepare-1"]["wall"] / by_round[r]["prepare-pair"]["wall"] for r in rounds])
        out.append("- the machine's ceiling, two independent 1-thread processes at once: %.2f× median" % pair)
    out.append("- the preparations wrote the same manifest in every run: yes (sha256 %s…)" % manifests.pop()[:16])
    print("\n".join(out))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("rounds")
    p.add_argument("results")
    p = sub.add_parser("table")
    p.add_argument("results")
    args = ap.parse_args()
    return {"rounds": cmd_rounds, "table": cmd_table}[args.mode](args) or 0


if __name__ == "__main__":
    sys.exit(main())
