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
. launch/lib.sh
config=mini
steps=6
per_rank=8
global=16
rho=0.5  # SIFT's selection fraction in every run (and in the summary)
ranks="1 2 4"
out=""
positional=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) config=tiny; steps=3; shift ;;
        --out) need_value "$@"; out="$2"; shift 2 ;;
        --ranks) need_value "$@"; ranks="$2"; shift 2 ;;
        --per-rank-batch) need_value "$@"; per_rank="$2"; shift 2 ;;
        --global-batch) need_value "$@"; global="$2"; shift 2 ;;
        -h|--help) script_help; exit 0 ;;
        -*) usage_error "unknown option $1" ;;
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
sift_binary
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
        --policy "$policy" --exit-layer 1 --select-fraction "$rho" --batch-size "$b" --micro-batch "$micro" \
        --steps "$steps" --warmup 1 --eval-every 0 --eval-samples 16 --check-replicas-every 0 --log-every 1000 \
        --metrics "$out/$name.jsonl" > "$out/$name.log" 2>&1 \
        || { echo "error: run $name failed:" >&2; tail -5 "$out/$name.log" >&2; exit 1; }
}
for policy in vanilla sift; do
    for p in $ranks; do run weak "$policy" "$p" $((per_rank * p)); done
    for p in $ranks; do run strong "$policy" "$p" "$global"; done
done

"$bin" scaling-summary --out "$out" --config "$config" --vocab-size "$vocab_size" --cores "$cores" --steps "$steps" \
    --per-rank-batch "$per_rank" --global-batch "$global" --ranks "$ranks" --select-fraction "$rho"

echo
echo "### The scaling model against these runs (sift project --check)"
echo
"$bin" project --check "$out/scaling.json" --json "$out/check.json"
