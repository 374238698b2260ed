#!/usr/bin/env bash
# Weak and strong scaling of `sift train` at 1, 2 and 4 ranks on this machine, vanilla and SIFT
# (exit layer 1, ρ = 0.5), then the scaling model checked against the measurements.
#
#   launch/scaling.sh [--quick] [--out DIR] [--ranks "1 2 4"] [--per-rank-batch N] [--global-batch N] [CONFIG] [STEPS]
#
#   CONFIG, STEPS      model size and optimizer steps per run (default: mini 6; the first step is a warm-up
#                      and is not counted, so STEPS must be at least 2; more, e.g. "mini 12", average out noise)
#   --quick            smoke check: tiny, 3 steps
#   --per-rank-batch   weak scaling: samples backpropagated per rank per step (default 8)
#   --global-batch     strong scaling: samples backpropagated per step over all ranks (default 16)
#   --out DIR          where runs, logs and JSON go (default $SIFT_WORK/scaling)
#
# Every rank gets one OpenBLAS thread, so 1 rank uses one core, 2 ranks use two, and 4 ranks on a
# 2-core machine are oversubscribed (two ranks per core): they cannot show speed-up, only what the
# extra communication and the shared cores cost. Prints a Markdown table (samples/s backpropagated,
# parallel efficiency, time split) and writes DIR/scaling.json, then runs `sift project --check` on it.
# Needs the default dataset (run launch/quickstart.sh once, or SIFT_WORK pointing to one).
set -euo pipefail
cd "$(dirname "$0")/.."
config=mini
steps=6
per_rank=8
global=16
ranks="1 2 4"
out=""
positional=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) config=tiny; steps=3; shift ;;
        --out) out="$2"; shift 2 ;;
        --ranks) ranks="$2"; shift 2 ;;
        --per-rank-batch) per_rank="$2"; shift 2 ;;
        --global-batch) global="$2"; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "error: unknown option $1 (see launch/scaling.sh --help)" >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
[ ${#positional[@]} -ge 1 ] && config="${positional[0]}"
[ ${#positional[@]} -ge 2 ] && steps="${positional[1]}"
[ ${#positional[@]} -le 2 ] || { echo "error: expected at most CONFIG and STEPS, got ${positional[*]}" >&2; exit 2; }
case "$config" in tiny|mini|small|medium|base) ;; *) echo "error: unknown config '$config' (tiny, mini, small, medium, base)" >&2; exit 2 ;; esac
for v in "$steps" "$per_rank" "$global"; do
    [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "error: steps and batch sizes must be positive integers (got '$v')" >&2; exit 2; }
done
[ "$steps" -ge 2 ] || { echo "error: STEPS must be at least 2 (the first step is a warm-up)" >&2; exit 2; }
for p in $ranks; do
    [[ "$p" =~ ^[1-9][0-9]*$ ]] || { echo "error: --ranks must list positive integers (got '$p')" >&2; exit 2; }
    [ "$global" -ge "$p" ] || { echo "error: --global-batch $global is smaller than $p ranks" >&2; exit 2; }
done
[[ " $ranks " == *" 1 "* ]] || { echo "error: --ranks must include 1 (the baseline of the efficiencies)" >&2; exit 2; }

work="${SIFT_WORK:-work-data}"
[ -f "$work/dataset/manifest.json" ] || { echo "error: no dataset in $work/dataset (run launch/quickstart.sh first)" >&2; exit 2; }
vocab="$work/dataset/vocab.txt"; [ -f "$vocab" ] || vocab="$work/vocab.txt"
[ -f "$vocab" ] || { echo "error: no vocab.txt in $work/dataset or $work" >&2; exit 2; }
vocab_size=$(wc -l < "$vocab" | tr -d ' ')
out="${out:-$work/scaling}"
mkdir -p "$out"
bin="${SIFT_BINARY:-.build/release/sift}"
[ -x "$bin" ] || { echo "error: sift binary not found at $bin (run launch/setup.sh first)" >&2; exit 2; }
cores=$(nproc)
# One OpenBLAS thread per rank: ranks = cores used (see the header).
export OPENBLAS_NUM_THREADS=1
export SIFT_PROGRESS=plain

echo "scaling: BERT-$config (vocab $vocab_size), $steps steps per run (first one not counted), ranks: $ranks, $cores cores, 1 OpenBLAS thread per rank"
echo "  weak scaling: $per_rank samples backpropagated per rank per step; strong scaling: $global per step over all ranks"
echo "  SIFT: exit layer 1, ρ = 0.5 (it scores twice as many candidates as it backpropagates)"
for p in $ranks; do
    if [ "$p" -gt "$cores" ]; then
        echo "  NOTE: $p ranks on $cores cores are OVERSUBSCRIBED ($(( (p + cores - 1) / cores )) ranks per core): these rows cannot show speed-up, only what sharing cores and the extra communication cost"
    fi
done
echo "  runs, logs and JSON in $out"
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if awk "BEGIN { exit !($load >= 1) }"; then
    echo "  note: 1-minute load average $load before starting: if other processes are running, they slow these runs unevenly"
fi

# Memory bandwidth and small-message latency with every core busy, for the model check.
bench_ranks=$cores; [ "$bench_ranks" -lt 2 ] && bench_ranks=2
echo "measuring memory bandwidth and MPI latency ($bench_ranks ranks)…"
launch/mpirun.sh -np "$bench_ranks" -- bench --only memory,allreduce --configs "$config" --vocab-size "$vocab_size" \
    --repeats 3 --json "$out/machine.json" > "$out/machine.log" 2>&1 \
    || { echo "error: sift bench failed:" >&2; tail -5 "$out/machine.log" >&2; exit 1; }

run() {  # mode policy ranks batch
    local mode=$1 policy=$2 p=$3 b=$4 name="$1-$2-p$3"
    local micro=32; [ "$b" -gt "$micro" ] && micro=$b
    echo "  $mode $policy: $p rank(s), b = $b …"
    rm -f "$out/$name.jsonl"
    launch/mpirun.sh -np "$p" -- train --config "$config" --data "$work/dataset" --vocab "$vocab" \
        --policy "$policy" --exit-layer 1 --select-fraction 0.5 --batch-size "$b" --micro-batch "$micro" \
        --steps "$steps" --warmup 1 --eval-every 0 --eval-samples 16 --check-replicas-every 0 --log-every 1000 \
        --metrics "$out/$name.jsonl" > "$out/$name.log" 2>&1 \
        || { echo "error: run $name failed:" >&2; tail -5 "$out/$name.log" >&2; exit 1; }
}
for policy in vanilla sift; do
    for p in $ranks; do run weak "$policy" "$p" $((per_rank * p)); done
    for p in $ranks; do run strong "$policy" "$p" "$global"; done
done

python3 - "$out" "$config" "$vocab_size" "$cores" "$steps" "$per_rank" "$global" "$ranks" <<'PY'
import json, os, sys, datetime
out, config, vocab_size, cores, steps, per_rank, global_b, ranks = sys.argv[1:9]
vocab_size, cores, steps, per_rank, global_b = int(vocab_size), int(cores), int(steps), int(per_rank), int(global_b)
ranks = [int(r) for r in ranks.split()]
keys = ["data", "scoring", "selection", "forward_backward", "exposed_allreduce", "optimizer", "waiting"]
machine = json.load(open(os.path.join(out, "machine.json")))

def measure(mode, policy, p):
    name = f"{mode}-{policy}-p{p}"
    records = sorted((json.loads(l) for l in open(os.path.join(out, name + ".jsonl")) if '"times"' in l), key=lambda r: r["step"])
    timed = records[1:]  # the first step warms caches and allocates workspaces
    b = per_rank * p if mode == "weak" else global_b
    step = (records[-1]["elapsed"] - records[0]["elapsed"]) / len(timed)  # wall clock of the slowest rank
    times = {k: sum(r["times"][k] for r in timed) / len(timed) for k in keys}
    return {"mode": mode, "policy": policy, "ranks": p, "batch_size": b, "per_rank_batch": -(-b // p),
            "select_fraction": 0.5, "exit_layer": 1, "pool_size": b if policy == "vanilla" else 2 * b,
            "steps_timed": len(timed), "step_seconds": step, "samples_per_second": b / step, "times": times,
            "oversubscribed": p > cores, "cores_used": min(p, cores)}

runs = [measure(m, pol, p) for pol in ["vanilla", "sift"] for m in ["weak", "strong"] for p in ranks]
for r in runs:
    one = next(x for x in runs if x["mode"] == r["mode"] and x["policy"] == r["policy"] and x["ranks"] == 1)
    # Weak: throughput_p / (p · throughput_1). Strong: speedup / p, the same ratio at a fixed batch.
    r["efficiency"] = r["samples_per_second"] / (r["ranks"] * one["samples_per_second"])
    t = r["times"]
    r["compute_seconds"] = t["data"] + t["scoring"] + t["forward_backward"] + t["optimizer"]
    r["communication_seconds"] = t["exposed_allreduce"] + t["selection"]
    r["waiting_seconds"] = t["waiting"]

result = {"config": config, "vocab_size": vocab_size, "seq_len": 128, "cores": cores, "threads_per_rank": 1,
          "bucket_mb": 4.0, "micro_batch": 32, "steps": steps, "per_rank_batch": per_rank, "global_batch": global_b,
          "date": datetime.datetime.now().isoformat(timespec="seconds"),
          "memory": machine.get("memory"), "latency_seconds": machine.get("allreduce", {}).get("latency_seconds"),
          "allreduce": machine.get("allreduce", {}).get("gradients"), "machine": machine.get("machine"), "runs": runs}
json.dump(result, open(os.path.join(out, "scaling.json"), "w"), indent=1)

print(f"\n### Scaling, BERT-{config}, {steps - 1} timed steps per run, {cores} cores, 1 OpenBLAS thread per rank\n")
print("weak: %d samples backpropagated per rank per step; strong: %d per step in all. SIFT at exit layer 1, ρ = 0.5. "
      "samples/s = backpropagated samples per second (wall clock). Time split per step, rank 0, seconds: compute = data + scoring + "
      "forward/backward + optimizer; exposed comm = exposed allreduce + selection (loss exchange, incl. waiting for the slowest scorer); "
      "waiting = blocking small collectives (waiting for the slowest rank).\n" % (per_rank, global_b))
print("| ranks | mode | policy | b | b/rank | step s | samples/s | efficiency | compute s | exposed comm s | waiting s |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in runs:
    over = " (oversubscribed)" if r["oversubscribed"] else ""
    total = r["compute_seconds"] + r["communication_seconds"] + r["waiting_seconds"]
    share = lambda x: f"{x:.3f} ({100 * x / total:.0f}%)" if total > 0 else f"{x:.3f}"
    print(f"| {r['ranks']}{over} | {r['mode']} | {r['policy']} | {r['batch_size']} | {r['per_rank_batch']} | {r['step_seconds']:.3f} | "
          f"{r['samples_per_second']:.1f} | {100 * r['efficiency']:.0f}% | {share(r['compute_seconds'])} | "
          f"{share(r['communication_seconds'])} | {share(r['waiting_seconds'])} |")
share = machine.get("lowest_cpu_share_of_wall_time")
if share is not None and share < 0.8:
    print(f"\nwarning: during the memory/latency measurement a rank was on a CPU only {100 * share:.0f}% of the time: "
          "other processes competed for the cores; these numbers (and the check below) understate the machine")
print(f"\nwrote {os.path.join(out, 'scaling.json')}")
PY

echo
echo "### The scaling model against these runs (sift project --check)"
echo
"$bin" project --check "$out/scaling.json" --json "$out/check.json"
