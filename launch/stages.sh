#!/usr/bin/env bash
# Gain against stage: does selection pay more per backpropagated sample the further training has gone?
#
# For each (corpus, model): one plain (vanilla) run on the whole training split with a long schedule,
# stopped at each stage (--stop-after keeps the schedule), its model exported there as a warm start.
# At each stage, per seed, the equal-schedule per-sample probe from that warm start on a fixed
# 2,800-sequence subset (timing plays no part, so it may run while the machine is busy):
#   vanilla-full   vanilla, N steps
#   vanilla-short  vanilla, 3N/4 steps (its schedule ends at 3N/4)
#   sift-short     `sift train --policy sift`'s defaults, 3N/4 steps
# Vanilla's final losses at N and 3N/4 steps give its loss as a function of its budget; the steps vanilla
# would need for sift-short's final loss (linear in the budget between the two, extrapolated past N and
# flagged) give the gain per backpropagated sample, 1 − (3N/4) / (vanilla's steps). tools/stages_report.py
# writes the table and plot into the output directory.
#
#   launch/stages.sh [--models "mini deep12"] [--corpora "licenses"] [--stages "1000 2500 6000"]
#                    [--seeds "1 2 3"] [--probe-steps N] [--only TEXT] [--out DIR]
#   launch/stages.sh --warm-starts-only [the same settings]   (only the warm starts, e.g. for equal_budget.sh)
#       defaults: models mini and deep12, corpus licenses, stages 1,000 / 2,500 / 6,000 steps of a
#       12,000-step schedule (lr 1e-3, 300 warm-up steps, b 32, seed 7), seeds 1–3, N = 200,
#       out docs/experiment/stages. --only runs only the runs whose id contains TEXT.
#
# Resumable and incremental: the base runs continue from their checkpoints (a stage the plain run has already
# passed is replayed from step 0 with the same seed, on a dataset of the same size, and its validation loss at
# the stage must be within 0.05 nats of the log's; the evaluations before it are compared and reported, not
# judged, since the committed GCIDE run, continued from step 251 by an earlier build, left today's replay
# there and crossed the loss plateau at another step), a finished probe (its metrics
# end with the final evaluation) is never re-run, and the report is rewritten after every run. Work files
# (checkpoints, warm starts, datasets) go to $SIFT_WORK/stages (default work-data/stages); committed logs
# are thinned to what the report reads (evaluations, every 25th step) and compressed (launch/lib.sh's
# metrics_finish; the plain run's log is decompressed again when it continues). SIFT_BINARY pins the binary.
# SIFT_RANKS sets the ranks of the plain run and its replays (default 2; the model does not depend on it), so
# that two replays can run side by side on a 2-core machine at 1 rank each (with OPENBLAS_NUM_THREADS=1).
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
models="mini deep12"; corpora="licenses"; stages="1000 2500 6000"; seeds="1 2 3"; probe=200; only=""; warm_only=0
out=docs/experiment/stages; schedule=12000
while [ $# -gt 0 ]; do
    case "$1" in
        --models) need_value "$@"; models="$2"; shift 2 ;;
        --corpora) need_value "$@"; corpora="$2"; shift 2 ;;
        --stages) need_value "$@"; stages="$2"; shift 2 ;;
        --seeds) need_value "$@"; seeds="$2"; shift 2 ;;
        --probe-steps) need_value "$@"; probe="$2"; shift 2 ;;
        --only) need_value "$@"; only="$2"; shift 2 ;;
        --out) need_value "$@"; out="$2"; shift 2 ;;
        --warm-starts-only) warm_only=1; shift ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
for s in $stages; do
    if ! [[ "$s" =~ ^[1-9][0-9]*$ ]] || [ "$s" -ge "$schedule" ]; then usage_error "a stage must be a step count below $schedule (got '$s')"; fi
done
if ! [[ "$probe" =~ ^[1-9][0-9]*$ ]] || [ "$probe" -lt 8 ]; then usage_error "--probe-steps must be an integer ≥ 8 (got '$probe')"; fi
short=$(( probe * 3 / 4 ))
work="${SIFT_WORK:-work-data}/stages"
sift_binary
read -r -a corpus_names <<<"$corpora"
launch/corpora.sh "$work" "${corpus_names[@]}"
mkdir -p "$out"

# The models' SIFT step overhead (`sift bench`, see docs/BENCHMARKS.md) draws the break-even line.
bench=docs/benchmarks/bench-depth.json
report() {
    local args=(--dir "$out" --probe-steps "$probe" --datasets "$work")
    [ -f "$bench" ] && args+=(--bench "$bench")
    python3 tools/stages_report.py "${args[@]}" >&2 || echo "warning: the report could not be written" >&2
}

# The plain run of (corpus, model) continued to `stage` and exported there as warm start.
advance() {  # corpus model stage
    local c="$1" m="$2" s="$3" d="$work/$1-$2"
    local warm="$d/stage-$s"
    [ -f "$warm/model.safetensors" ] && return
    local base="$out/$c-$m-base" ckpt="$d/checkpoints" resume=()
    local metrics="$base.jsonl"
    mkdir -p "$ckpt"
    local latest
    latest=$(find "$ckpt" -name 'step-*.ckpt' | sed 's/.*step-0*\([0-9][0-9]*\)\.ckpt$/\1/' | sort -n | tail -n 1)
    if { [ -n "$latest" ] && [ "$latest" -gt "$s" ]; } || { [ -z "$latest" ] && [ -f "$(metrics_file "$base")" ]; }; then
        # The plain run is past this stage (a stage added later), or its checkpoints are gone (another
        # machine, a cleaned work folder) while its log is committed: replay it from step 0 in a scratch
        # directory. The run is deterministic (seed 7, same schedule): with the plain run's build and CPU the
        # replay's model at step s is the plain run's, with another it is the same recipe's; its metrics are
        # kept apart and its validation loss at step s checked against the base log's.
        ckpt="$d/replay-$s" metrics="$d/replay-$s.jsonl"
        # Only on the same data: a corpus read off the machine (licenses) can differ from the committed run's.
        local have want
        have=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["trainSequences"])' "$work/$c/dataset/manifest.json")
        want=$(sed -n '1s/.* \([0-9][0-9]*\) training samples .*/\1/p' "$out/$c-$m-base.log" 2>/dev/null)
        if [ -n "$want" ] && [ "$have" != "$want" ]; then
            echo "error: the $c dataset here has $have training sequences, the committed plain run's $want (this machine's corpus differs): the warm start $c-$m-$s cannot be remade" >&2
            exit 2
        fi
        rm -rf "$ckpt" "$metrics"; mkdir -p "$ckpt"
    else
        metrics_reopen "$base"  # the plain run continues its committed (thinned, compressed) log
    fi
    [ -n "$(ls -A "$ckpt" 2>/dev/null)" ] && resume=(--resume)
    echo "stages: $c-$m plain run to step $s${resume:+ (resuming)}" >&2
    SIFT_PROGRESS=plain launch/mpirun.sh -np "${SIFT_RANKS:-2}" -- train --config "$m" --data "$work/$c/dataset" --policy vanilla \
        --batch-size 32 --steps "$schedule" --stop-after "$s" --warmup 300 --lr 1e-3 --seed 7 \
        --eval-every 250 --eval-samples 1600 --check-replicas-every 0 --log-every 50 \
        --checkpoint-dir "$ckpt" --checkpoint-every 250 --keep-checkpoints 1 \
        --metrics "$metrics" "${resume[@]}" >> "$out/$c-$m-base.log" 2>&1 \
        || { echo "error: the plain run $c-$m failed; see $out/$c-$m-base.log" >&2; exit 1; }
    "$bin" export --model "$ckpt" --hf "$warm" --overwrite >> "$out/$c-$m-base.log" 2>&1 \
        || { echo "error: exporting $c-$m at step $s failed; see $out/$c-$m-base.log" >&2; exit 1; }
    grep -q "\"step\":${s}[,}]" "$metrics" || { echo "error: $c-$m stopped before step $s (see $out/$c-$m-base.log)" >&2; exit 1; }
    if [ "$ckpt" = "$d/replay-$s" ]; then
        python3 - "$metrics" "$(metrics_file "$base")" "$s" <<'PY' || { rm -rf "$warm"; exit 1; }
import sys
sys.path.insert(0, "tools")
from metrics_io import read_rows
def evals(path):
    return {r["step"]: r["val_loss"] for r in read_rows(path) if "val_loss" in r}
replay, base, stage = evals(sys.argv[1]), evals(sys.argv[2]), int(sys.argv[3])
common = [k for k in replay if k in base and k <= stage]
# The same recipe (data, seed, schedule) trained to the same step: its validation loss there is the plain run's
# up to rounding (another CPU's kernels, another build) amplified by training, far less than a changed schedule
# or seed moves it. Before the stage the two can part for a while: a small difference moves the step at
# which a run leaves the loss plateau (GCIDE's plain run and today's replay: 0.17 nats apart at step 1,250,
# 0.009 at 6,000).
if stage not in replay or stage not in base:
    sys.exit(f"error: no validation loss at step {stage} in the replay or the committed plain run's log")
if abs(replay[stage] - base[stage]) > 0.05:
    sys.exit(f"error: the replay to step {stage} is not the plain run's stage (validation loss {replay[stage]:.5f} "
             f"against {base[stage]:.5f}); is SIFT_BINARY a build that trains as the plain run's did?")
drift = max(abs(replay[k] - base[k]) for k in common)
how = ("matches the plain run" if drift <= 1e-4 else
       f"is the plain run's stage within {abs(replay[stage] - base[stage]):.4f} nats (at most {drift:.4f} apart before it)")
print(f"stages: replay to step {stage} {how}, at {len(common)} evaluation(s)", file=sys.stderr)
PY
        rm -rf "$ckpt"
    else
        metrics_finish "$base"
    fi
}

# How well exit layers 1 and 2 rank real pools against the exact loss at this warm start (timing plays no part).
fidelity() {  # corpus model stage
    local f="$out/$1-$2-$3/fidelity.json"
    [ -f "$f" ] && return
    mkdir -p "$out/$1-$2-$3"
    OPENBLAS_NUM_THREADS=1 "$bin" bench --only fidelity --model "$work/$1-$2/stage-$3" --data "$work/$1/dataset" \
        --configs "$2" --vocab-size 8192 --select-fraction 0.75 --exit-layers 1,2 --score-vocabularies 2048 \
        --reuse-scoring-forward on --fidelity-pools 20 --json "$f" > "$out/$1-$2-$3/fidelity.log" 2>&1 \
        || { echo "error: the fidelity bench of $1-$2-$3 failed; see $out/$1-$2-$3/fidelity.log" >&2; exit 1; }
}
for s in $stages; do
    for c in $corpora; do
        for m in $models; do
            if [ -z "$only" ] || [[ "$c-$m-$s" == *"$only"* ]]; then
                advance "$c" "$m" "$s"
                [ "$warm_only" -eq 1 ] && { echo "stages: warm start $work/$c-$m/stage-$s ready" >&2; continue; }
                fidelity "$c" "$m" "$s"
            fi
            [ "$warm_only" -eq 1 ] && continue
            for seed in $seeds; do
                for run in "vanilla-full $probe --policy vanilla" "vanilla-short $short --policy vanilla" \
                           "sift-short $short --policy sift --fidelity-every 25"; do
                    read -r name steps flags <<<"$run"
                    id="$c-$m-$s/$name-s$seed"
                    [ -n "$only" ] && [[ "$id" != *"$only"* ]] && continue
                    metrics_finished "$out/$id" && continue
                    advance "$c" "$m" "$s"
                    mkdir -p "$out/$c-$m-$s"
                    metrics_remove "$out/$id"
                    echo "stages: $id ($steps steps)" >&2
                    read -r -a flag_args <<<"$flags"
                    SIFT_PROGRESS=plain launch/mpirun.sh -np 2 -- train --init-from "$work/$c-$m/stage-$s" \
                        --data "$work/$c/dataset" --sift-delay 0 --batch-size 32 --seed "$seed" --train-subset 2800 \
                        --steps "$steps" --warmup 30 --lr 1e-3 --eval-every 50 --eval-samples 1600 \
                        --check-replicas-every 0 --log-every 25 --metrics "$out/$id.jsonl" "${flag_args[@]}" > "$out/$id.log" 2>&1 \
                        || { echo "error: $id failed; see $out/$id.log" >&2; exit 1; }
                    metrics_finish "$out/$id"
                    report
                done
            done
        done
    done
done
[ "$warm_only" -eq 1 ] && exit 0
report
echo "stages: report in $out/results.md" >&2
