#!/usr/bin/env bash
# What selection buys per backpropagated sample, without the clock: every policy trains the same number
# of steps with the same learning-rate schedule (so no policy's rate decays sooner), from one warm start,
# and is evaluated at the same steps on validation loss and accuracy. Timing plays no part, so it may run
# while the machine is busy.
#
#   launch/per_sample.sh [--steps N] [--only NAME] [--corpus python|gcide|licenses] [--seeds "1 2"]
#                        [--stage CORPUS-MODEL-STEP] [--whole] [--run "NAME FLAGS…"]… [--out DIR]
#       (default 200 steps, corpus python, seeds 1 and 2). The warm start is launch/experiment.sh's of the
#       corpus, or with --stage a stage of launch/stages.sh's plain run (e.g. gcide-mini-6000; made by
#       `launch/stages.sh --warm-starts-only` when missing). Training reads the fixed 2,800-sequence subset
#       of the earlier rounds (--train-subset 2800), or with --whole the whole training split, as a user's
#       run would. --run replaces the default runs (vanilla, SIFT relative, exact relative) with named ones,
#       e.g. --run "sift-top-r75 --policy sift --rule top --select-fraction 0.75"; every run gets
#       b = 32, ρ = 0.5, exit layer 1 and N steps unless its FLAGS say otherwise (they come last, so
#       "vanilla-112 --policy vanilla --steps 112" is vanilla with a schedule 3/4 as long).
#       Runs train on SIFT_RANKS ranks (default 2; equal steps do not depend on it), so two invocations with
#       --only can share a 2-core machine at one rank each (SIFT_RANKS=1 OPENBLAS_NUM_THREADS=1).
#
# Resumable: a finished run (its metrics end with the final evaluation) is not re-run; its metrics are
# thinned to what the report reads and compressed (launch/lib.sh's metrics_finish). Writes
# docs/experiment/per-sample/<policy>-s<seed>.{jsonl.gz,log} and results.md (python), or the same under
# docs/experiment/per-sample-<corpus>/ for another corpus, under docs/experiment/per-sample-<stage>[-whole]/
# with --stage, or under --out DIR (tools/per_sample_report.py; under docs/experiment it also updates that
# folder's table in docs/EXPERIMENTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
steps=200; only=""; corpus=python; seeds="1 2"; runs=(); out=""; stage=""; whole=0
while [ $# -gt 0 ]; do
    case "$1" in
        --steps) need_value "$@"; steps="$2"; shift 2 ;;
        --only) need_value "$@"; only="$2"; shift 2 ;;
        --corpus) need_value "$@"; corpus="$2"; shift 2 ;;
        --seeds) need_value "$@"; seeds="$2"; shift 2 ;;
        --run) need_value "$@"; runs+=("$2"); shift 2 ;;
        --stage) need_value "$@"; stage="$2"; shift 2 ;;
        --whole) whole=1; shift ;;
        --out) need_value "$@"; out="$2"; shift 2 ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
case "$corpus" in python|gcide|licenses) ;; *) usage_error "--corpus must be python, gcide or licenses (got '$corpus')" ;; esac
[ -z "$stage" ] || [[ "$stage" =~ ^[a-z]+-[a-z0-9]+-[1-9][0-9]*$ ]] || usage_error "a stage is CORPUS-MODEL-STEP, e.g. gcide-mini-6000 (got '$stage')"
[[ "$steps" =~ ^[1-9][0-9]*$ ]] || usage_error "--steps must be a positive integer (got '$steps')"
work="${SIFT_WORK:-work-data}/experiment"
regime=subset; subset=(--train-subset 2800)
[ "$whole" -eq 1 ] && regime=whole subset=()
if [ -n "$stage" ]; then
    corpus=${stage%%-*} data=$(stage_dataset "$stage")
    warm_label="stage $stage"
    [ -n "$out" ] || { out=docs/experiment/per-sample-$stage; [ "$whole" -eq 1 ] && out="$out-whole"; }
else
    warm_label="experiment"
    [ -n "$out" ] || { out=docs/experiment/per-sample; [ "$corpus" = python ] || out="$out-$corpus"; }
    warm="$work/$corpus/warm-start" data="$work/$corpus/dataset"
    [ -f "$warm/model.safetensors" ] || { echo "error: no warm start in $work/$corpus (run launch/experiment.sh --warm-start-only $corpus)" >&2; exit 2; }
fi
sift_binary
[ -z "$stage" ] || warm=$(stage_warm_start "$stage")
[ ${#runs[@]} -gt 0 ] || runs=("vanilla --policy vanilla" "sift-relative --policy sift --rule relative" "exact --policy exact --rule relative")
mkdir -p "$out"
for seed in $seeds; do
    for run in "${runs[@]}"; do
        read -r name flags <<<"$run"
        id="$name-s$seed"
        [ -n "$only" ] && [[ "$id" != *"$only"* ]] && continue
        if metrics_finished "$out/$id"; then echo "per-sample: $id finished already" >&2; continue; fi
        metrics_remove "$out/$id"
        echo "per-sample: $id ($steps steps)" >&2
        read -r -a flag_args <<<"$flags"
        SIFT_PROGRESS=plain launch/mpirun.sh -np "${SIFT_RANKS:-2}" -- train --init-from "$warm" --data "$data" \
            --sift-delay 0 --batch-size 32 --select-fraction 0.5 --exit-layer 1 --seed "$seed" "${subset[@]}" \
            --steps "$steps" --warmup 30 --lr 1e-3 --eval-every 40 --eval-samples 1600 --check-replicas-every 0 --log-every 20 \
            --metrics "$out/$id.jsonl" "${flag_args[@]}" > "$out/$id.log" 2>&1 || { echo "error: $id failed; see $out/$id.log" >&2; exit 1; }
        metrics_finish "$out/$id"
    done
done
index=(); case "$out" in docs/experiment/*) index=(--index docs/EXPERIMENTS.md) ;; esac
python3 tools/per_sample_report.py --dir "$out" --steps "$steps" --corpus "$corpus" --warm-start "$warm_label" \
    --regime "$regime" "${index[@]}"
