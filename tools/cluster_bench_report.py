#!/usr/bin/env python3
"""The analysis of launch/cluster_bench.sh: its runs' metrics into rows, the rows into network.json.

    tools/cluster_bench_report.py row METRICS ROW [KEY=VALUE...]
        One run's row: the median step time over steps 3..N (from `elapsed`), the median of each phase
        (`times`) over those steps, the train losses, and each KEY=VALUE (VALUE as JSON when it parses,
        else a string), written to ROW (atomically). Fails when the run logged fewer than 4 steps.
    tools/cluster_bench_report.py step-time ROW
        Prints a row's step time, "0.123 s/step".
    tools/cluster_bench_report.py correctness ONE MANY POLICY HOSTS
        Compares the train loss per step of a 1-rank run (ONE) with a HOSTS-host run (MANY): they must agree
        to the rank-invariance tolerance (1e-5 relative) over 4 steps; exit status 1 when they do not.
    tools/cluster_bench_report.py network OUT VOCAB STEPS CPU CORES CLUSTER_ID "RATES"
        Gathers OUT/rows/*.json (sift runs, DDP runs, per-rate allreduce benchmarks) into OUT/network.json,
        which `sift project --check-network` reads.
Metrics logs are read through tools/metrics_io.py. Standard library only.
"""
import glob
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_io import read_rows, step_rows  # noqa: E402  (the one reader of metrics logs)

TOLERANCE = 1e-5


def row(metrics, path, extra):
    steps = step_rows(metrics)
    if len(steps) < 4:
        sys.exit(f"error: {metrics}: fewer than 4 timed steps")
    dts = [b["elapsed"] - a["elapsed"] for a, b in zip(steps, steps[1:]) if b["step"] >= 3]
    timed = [s for s in steps if s["step"] >= 3]
    out = {"step_s": statistics.median(dts), "steps_timed": len(dts),
           "times": {k: statistics.median(s["times"][k] for s in timed) for k in steps[-1]["times"]},
           "losses": [s["train_loss"] for s in steps]}
    for kv in extra:
        if "=" not in kv:
            sys.exit(f"error: expected KEY=VALUE, got '{kv}'")
        k, v = kv.split("=", 1)
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    with open(path + ".tmp", "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)


def step_time(path):
    print("%.3f s/step" % json.load(open(path))["step_s"])


def correctness(one, many, policy, hosts):
    a, b = ([r["train_loss"] for r in read_rows(f) if "train_loss" in r] for f in (one, many))
    worst = max((abs(x - y) / abs(x) for x, y in zip(a, b)), default=float("inf"))
    ok = len(a) == len(b) == 4 and worst <= TOLERANCE
    print(f"{policy}: {hosts} hosts vs 1 rank, train loss per step {b} vs {a}: largest relative difference {worst:.2e} "
          + ("(within 1e-5)" if ok else "EXCEEDS 1e-5"))
    return 0 if ok else 1


def rate_bits(r):
    """A tc rate ("500mbit", "1gbit") in bits per second; None for "unlimited"."""
    if r == "unlimited":
        return None
    units = {"kbit": 1e3, "mbit": 1e6, "gbit": 1e9}
    u = next(k for k in units if r.endswith(k))
    return float(r[:-len(u)]) * units[u]


def network(out, vocab, steps, cpu, cores, cid, rates):
    runs, ddp, allreduce = [], [], []
    for f in sorted(glob.glob(os.path.join(out, "rows", "*.json"))):
        r = json.load(open(f))
        if f.endswith("-allreduce.json"):
            rate = os.path.basename(f)[:-len("-allreduce.json")]
            a = r.get("allreduce")
            if a:
                allreduce.append({"rate": rate, "rate_bits_per_s": rate_bits(rate), "latency_seconds": a["latency_seconds"],
                                  "small_allreduce_seconds": a["small_allreduce_seconds"], "gradients": a["gradients"]})
            continue
        r.pop("losses", None)
        r["rate_bits_per_s"] = rate_bits(r["rate"])
        (ddp if "ddp" in r.get("engine", "") else runs).append(r)
    doc = {"kind": "cluster_bench", "hosts": 2, "ranks_per_host": 1, "threads_per_rank": 1, "cores": int(cores),
           "cpu": cpu, "vocab_size": int(vocab), "seq_len": 128, "steps": int(steps), "cluster_id": int(cid),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rates": rates.split(),
           "load_average_at_end": float(open("/proc/loadavg").read().split()[0]),
           "runs": runs, "allreduce": allreduce, "ddp": ddp}
    with open(os.path.join(out, "network.json"), "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=True)
    print(f"wrote {out}/network.json: {len(runs)} sift runs, {len(ddp)} DDP runs, {len(allreduce)} allreduce benchmarks")


def main(argv):
    commands = {"row": (row, 2, lambda a: (a[0], a[1], a[2:])), "step-time": (step_time, 1, lambda a: (a[0],)),
                "correctness": (correctness, 4, lambda a: tuple(a)), "network": (network, 7, lambda a: tuple(a))}
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if argv[0] not in commands:
        sys.exit(f"error: unknown command '{argv[0]}' (expected {', '.join(commands)}; see --help)")
    fn, count, unpack = commands[argv[0]]
    args = argv[1:]
    if len(args) < count or (argv[0] != "row" and len(args) != count):
        sys.exit(f"error: {argv[0]} takes {count} argument(s), got {len(args)} (see --help)")
    return fn(*unpack(args)) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
