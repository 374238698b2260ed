#!/usr/bin/env bash
# Step time of `sift train` across two emulated hosts (launch/cluster.sh) at several link rates, for
# the scaling model's network check (`sift project --check-network`) and, with --ddp, against PyTorch
# DDP on the same hosts and links.
#
#   launch/cluster_bench.sh [--out DIR] [--rates "500mbit 1gbit 2500mbit 10gbit"] [--no-unlimited]
#       [--models "mini deep12"] [--steps 12] [--per-rank-batch 16] [--data DIR] [--id K]
#       [--ddp PYTHON] [--ddp-bf16] [--mca NAME VALUE]... [--train-flags "FLAGS"] [--correctness HOSTS] [--quick]
#
#   --rates        tc rates of the hosts' links, each measured in turn; an unshaped run ("unlimited",
#                  veth at memory speed) follows unless --no-unlimited: the check takes compute from it
#   --models       named sizes (sift's --config), each run vanilla and SIFT (exit layer 1, ρ = 0.5),
#                  overlap on and off (--no-overlap): 8 runs per rate
#   --steps        optimizer steps per run (default 12; step time and phase split are medians over steps 3..N)
#   --per-rank-batch  samples backpropagated per rank per step (default 16, so b = 32 over 2 hosts)
#   --data         a dataset from `sift prepare` (default: $SIFT_WORK/dataset if it has seq len 128, else one is
#                  built in DIR/dataset from $SIFT_CORPUS or Debian's python3.11-doc sources, vocabulary 8192)
#   --id           cluster number (default 60; ClusterTests use 100-249)
#   --ddp PYTHON   also run tools/ddp_compare.py --cluster with this interpreter (PyTorch and transformers)
#   --ddp-bf16     with --ddp, also DDP with its bf16 gradient-compression hook
#   --mca NAME VALUE  an OpenMPI MCA parameter for every sift run across the hosts (repeatable; recorded in
#                  each row as "mca"), e.g. --mca btl_tcp_progress_thread 0 (launch/mpirun.sh turns OpenMPI's TCP
#                  progress thread on across hosts; rows record it either way); use another --out for such a variant
#   --train-flags "FLAGS"  extra `sift train` flags for every run (recorded in each row as "train_flags"), e.g.
#                  "--gradient-exchange bf16"; use another --out for such a variant
#   --correctness H  only check correctness: H hosts x 1 rank (oversubscribed) against 1 rank, 4 steps, no timing
#   --quick        smoke run: rate 1gbit and unlimited, model tiny, 6 steps
#
# Resumable: each finished run is DIR/rows/*.json and is not run again (delete a file to redo it).
# At the end the rows go into DIR/network.json (rates, runs, per-rate allreduce benchmark, machine),
# which `sift project --check-network` reads (rows and network.json: tools/cluster_bench_report.py). Every rank gets 1 OpenBLAS thread; each host has one rank.
# The cluster is taken down at the end, on error and on interrupt. Needs root (launch/cluster.sh).
# Timings mean something only on an otherwise idle machine: the load average is recorded per run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
. launch/lib.sh
die() { echo "cluster_bench: $*" >&2; exit 2; }
report() { python3 tools/cluster_bench_report.py "$@"; }

out="${SIFT_WORK:-work-data}/cluster_bench"
rates="500mbit 1gbit 2500mbit 10gbit"; unlimited=1
models="mini deep12"; steps=12; per_rank=16; data=""; id=60
ddp=""; ddp_bf16=0; correctness=""; mca=(); train_flags=""
while [ $# -gt 0 ]; do
    case "$1" in
        --out) need_value "$@"; out="$2"; shift 2 ;;
        --rates) need_value "$@"; rates="$2"; shift 2 ;;
        --no-unlimited) unlimited=0; shift ;;
        --models) need_value "$@"; models="$2"; shift 2 ;;
        --steps) need_value "$@"; steps="$2"; shift 2 ;;
        --per-rank-batch) need_value "$@"; per_rank="$2"; shift 2 ;;
        --data) need_value "$@"; data="$2"; shift 2 ;;
        --id) need_value "$@"; id="$2"; shift 2 ;;
        --ddp) need_value "$@"; ddp="$2"; shift 2 ;;
        --ddp-bf16) ddp_bf16=1; shift ;;
        --train-flags) need_value "$@"; train_flags="$2"; shift 2 ;;
        --mca) [ $# -ge 3 ] || usage_error "--mca needs a name and a value"; mca+=(--mca "$2" "$3"); shift 3 ;;
        --correctness) need_value "$@"; correctness="$2"; shift 2 ;;
        --quick) rates="1gbit"; models="tiny"; steps=6; shift ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
for r in $rates; do [[ "$r" =~ ^[0-9]+(\.[0-9]+)?(kbit|mbit|gbit)$ ]] || die "--rates: '$r' is not a tc rate like 500mbit or 1gbit"; done
for m in $models; do case "$m" in tiny|mini|small|medium|base|deep12) ;; *) die "--models: unknown size '$m'" ;; esac; done
if ! [[ "$steps" =~ ^[0-9]+$ ]] || [ "$steps" -lt 4 ]; then die "--steps must be at least 4 (medians are over steps 3..N)"; fi
[[ "$per_rank" =~ ^[1-9][0-9]*$ ]] || die "--per-rank-batch must be a positive integer"
if ! [[ "$id" =~ ^[0-9]+$ ]] || [ "$id" -lt 1 ] || [ "$id" -gt 99 ]; then die "--id must be 1..99 (100-249 belong to the tests)"; fi
[ -z "$correctness" ] || [[ "$correctness" =~ ^[2-8]$ ]] || die "--correctness needs 2..8 hosts"
[ -z "$ddp" ] || [ -x "$(command -v "$ddp")" ] || die "--ddp $ddp is not an executable Python"
command -v python3 >/dev/null || die "needs python3 (to summarise metrics files)"
[ "$(id -u)" -eq 0 ] || die "needs root (launch/cluster.sh makes network namespaces)"
sift_binary
read -r -a train_flag_args <<<"$train_flags"

mkdir -p "$out/rows" "$out/logs" || die "cannot create $out"
out="$(cd "$out" && pwd)"
export SIFT_CLUSTER_DIR="$out/cluster"
export OPENBLAS_NUM_THREADS=1 SIFT_PROGRESS=plain
cdir="$SIFT_CLUSTER_DIR"
down() { launch/cluster.sh down --id "$id" >/dev/null 2>&1; }
trap 'down' EXIT
trap 'echo "cluster_bench: interrupted; taking cluster $id down" >&2; exit 130' INT TERM

# The dataset: sequence length 128, vocabulary 8192 (as the other benchmarks).
if [ -z "$data" ]; then
    if [ -f "${SIFT_WORK:-work-data}/dataset/manifest.json" ] && grep -q '"seqLen" : 128' "${SIFT_WORK:-work-data}/dataset/manifest.json"; then
        data="${SIFT_WORK:-work-data}/dataset"
    else
        data="$out/dataset"
        if [ ! -f "$data/manifest.json" ]; then
            corpus="${SIFT_CORPUS:-/usr/share/doc/python3.11/html/_sources}"
            [ -e "$corpus" ] || die "no --data and no corpus at $corpus (set SIFT_CORPUS or pass --data)"
            echo "building a dataset from $corpus in $data (vocabulary 8192, sequence length 128)"
            prepare_corpus "$out" "$corpus" auto 0.1 > "$out/logs/prepare.log" 2>&1 \
                || die "building the dataset failed (see $out/logs/prepare.log)"
        fi
    fi
fi
data="$(cd "$data" && pwd)" || die "no dataset at $data"
vocab="$data/vocab.txt"; [ -f "$vocab" ] || vocab="$(dirname "$data")/vocab.txt"
[ -f "$vocab" ] || die "no vocab.txt in $data or beside it"
vocab_size=$(grep -c . "$vocab")
global=$((2 * per_rank))
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
load() { cut -d' ' -f1 /proc/loadavg; }

up() {  # RATE|unlimited HOSTS
    local r=()
    [ "$1" = unlimited ] || r=(--rate "$1")
    launch/cluster.sh up "$2" "${r[@]}" --id "$id" > "$out/logs/cluster.log" 2>&1 \
        || die "launch/cluster.sh up $2 ${r[*]} --id $id failed: $(tail -n 1 "$out/logs/cluster.log")"
}

train() {  # NP METRICS LOG MODEL POLICY OVERLAP STEPS [mpirun.sh args before --]
    local np=$1 metrics=$2 log=$3 model=$4 policy=$5 overlap=$6 n=$7; shift 7
    local flags=(); [ "$overlap" = off ] && flags+=(--no-overlap)
    rm -f "$metrics"
    launch/mpirun.sh -np "$np" "$@" -- train --config "$model" --data "$data" --vocab "$vocab" --policy "$policy" \
        --exit-layer 1 --select-fraction 0.5 --sift-delay 0 --batch-size "$global" --micro-batch 32 --bucket-mb 4 \
        --steps "$n" --warmup 1 --eval-every 0 --eval-samples 16 --check-replicas-every 0 --log-every 1000 \
        --seed 7 --metrics "$metrics" "${flags[@]}" "${train_flag_args[@]}" > "$log" 2>&1
}

# launch/mpirun.sh's default across hosts, written out so that every row records it.
[[ " ${mca[*]} " == *" btl_tcp_progress_thread "* ]] || mca+=(--mca btl_tcp_progress_thread 1)
hosts_args=(--hostfile "$cdir/hostfile" --agent "$cdir/agent" "${mca[@]}")
mca_text=$(printf '%s ' "${mca[@]}" | sed 's/--mca \([^ ]*\) \([^ ]*\) /\1=\2 /g; s/ $//')

if [ -n "$correctness" ]; then
    # Correctness only: H hosts x 1 rank on unshaped links against 1 rank; the train losses must agree
    # to the rank-invariance tolerance (1e-5 relative). No timing.
    model="${models%% *}"
    up unlimited "$correctness"
    status=0
    for policy in vanilla sift; do
        one="$out/logs/correct-$model-$policy-1.jsonl"; many="$out/logs/correct-$model-$policy-$correctness.jsonl"
        train 1 "$one" "$one.log" "$model" "$policy" on 4 || die "1-rank run failed (see $one.log)"
        train "$correctness" "$many" "$many.log" "$model" "$policy" on 4 "${hosts_args[@]}" \
            || die "$correctness-host run failed (see $many.log)"
        report correctness "$one" "$many" "$policy" "$correctness" || status=1
    done
    exit $status
fi

all_rates="$rates"; [ "$unlimited" = 1 ] && all_rates="$rates unlimited"
total=$(( $(wc -w <<<"$all_rates") * $(wc -w <<<"$models") * 4 )); done_runs=0
echo "cluster_bench: 2 hosts x 1 rank (cluster $id), rates: $all_rates; models: $models; $steps steps, b $per_rank per rank; $total runs; rows in $out/rows"
echo "  dataset $data (vocabulary $vocab_size); load average now $(load) (timings need an idle machine)"
for rate in $all_rates; do
    up "$rate" 2
    bench="$out/rows/$rate-allreduce.json"
    if [ ! -f "$bench" ]; then
        # The link alone: the trainer's gradient allreduce (blocking and in 4 MiB buckets) and an 8-byte
        # allreduce over this rate, for the model's bandwidth and per-message fit.
        launch/mpirun.sh -np 2 "${hosts_args[@]}" -- bench --only allreduce --configs "$(tr ' ' , <<<"$models")" \
            --vocab-size "$vocab_size" --repeats 5 --json "$bench.tmp" > "$out/logs/$rate-allreduce.log" 2>&1 \
            && mv "$bench.tmp" "$bench" || echo "  warning: allreduce benchmark at $rate failed (see $out/logs/$rate-allreduce.log)" >&2
    fi
    for model in $models; do
        for policy in vanilla sift; do
            for overlap in on off; do
                name="$rate-$model-$policy-overlap_$overlap"; row="$out/rows/$name.json"
                done_runs=$((done_runs + 1))
                if [ -f "$row" ]; then echo "  [$done_runs/$total] $name: done before"; continue; fi
                before=$(load)
                train 2 "$out/logs/$name.jsonl" "$out/logs/$name.log" "$model" "$policy" "$overlap" "$steps" "${hosts_args[@]}" \
                    || die "run $name failed: $(tail -n 2 "$out/logs/$name.log" | tr '\n' ' ')"
                report row "$out/logs/$name.jsonl" "$row" rate="$rate" model="$model" policy="$policy" overlap="$([ "$overlap" = on ] && echo true || echo false)" \
                    hosts=2 ranks=2 batch_size="$global" per_rank_batch="$per_rank" select_fraction=0.5 exit_layer=1 \
                    bucket_mb=4 micro_batch=32 load_average_before="$before" load_average_after="$(load)" mca="$mca_text" train_flags="$train_flags" \
                    || die "cannot summarise $name"
                echo "  [$done_runs/$total] $name: $(report step-time "$row") (load $before)"
            done
        done
        if [ -n "$ddp" ]; then
            # PyTorch DDP on the same hosts, link, model, batch and bucket size (tools/ddp_compare.py --cluster).
            prefix="$out/rows/$rate-$model"
            if [ ! -f "$prefix-ddp.json" ] || { [ "$ddp_bf16" = 1 ] && [ ! -f "$prefix-ddp_bf16.json" ]; }; then
                extra=(); [ "$ddp_bf16" = 1 ] && extra=(--bf16-hook)
                "$ddp" tools/ddp_compare.py --cluster "$id" --cluster-dir "$cdir" --data "$data" --configs "$model" \
                    --steps "$steps" --per-rank-batch "$per_rank" --bucket-mb 4 --torch-only "${extra[@]}" \
                    --row-prefix "$prefix" --row-extra "rate=$rate" --row-extra "load_average_before=$(load)" \
                    > "$out/logs/$rate-$model-ddp.log" 2>&1 \
                    || die "DDP run $rate $model failed: $(tail -n 2 "$out/logs/$rate-$model-ddp.log" | tr '\n' ' ')"
            fi
            for f in "$prefix"-ddp*.json; do
                echo "  $(basename "$f" .json): $(report step-time "$f")"
            done
        fi
    done
done
down

# Everything into one JSON for `sift project --check-network`.
report network "$out" "$vocab_size" "$steps" "$cpu" "$(nproc)" "$id" "$all_rates" || die "cannot write $out/network.json"
echo
"$bin" project --check-network "$out/network.json" --json "$out/check.json"
