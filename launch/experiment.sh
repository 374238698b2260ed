#!/usr/bin/env bash
# The deciding experiment: does SIFT beat plain training in wall-clock time?
#
# BERT-mini on 2 ranks, in the multi-epoch regime: each run trains on a fixed subset of a corpus's
# training split for the same wall-clock budget (several epochs), with the learning-rate schedule fitted
# to that budget (`--time-budget` without `--steps`), so every policy's rate has decayed to 0 when its
# budget ends. Evaluation (on ≥ 1,600 held-out sequences, ≥ 30,000 masked tokens) is off the clock.
# Every run starts from the same vanilla warm start (1,000 plain steps on the whole training split, once
# per corpus, not timed): from scratch, BERT-mini spends its first ~1,000 steps on the unigram plateau
# (validation loss 6.55 → 6.41 and accuracy 5.4–6.0% over 240 steps at lr 1e-3 or 3e-3, measured), where
# no selection rule has anything to select for. The warm start plays the role of smart sifting's
# `sift_delay`: selection begins once the model has learned what is common.
#   corpus 1: Python's documentation sources, reStructuredText markup removed (`sift prepare` --format rst)
#   corpus 2: the GCIDE dictionary (Debian's dict-gcide), prose
#   corpus 3: licenses — every /usr/share/doc/*/copyright file of the machine, byte-identical files kept
#             once (the deduplication any corpus pipeline does): license texts and templated copyright
#             records that recur with small changes, the near-duplicate regime where samples become easy
# Policies (corpus 1, seeds 1 and 2): vanilla · sift top-b (the paper's greedy rule) · sift relative
# (Selective-Backprop) · sift relative reusing scores up to 50 steps old (a sample returns every ~44
# steps, so about every other visit is scored) · sift relative with the reducible score · exact loss
# (relative rule).
# Then vanilla against sift relative (the default rule) on corpus 2, seeds 1 and 2, and corpus 3, seeds 1–3
# (its first two seeds disagreed).
#
# Round "reuse" (--round reuse, into docs/experiment/reuse): after the scoring forward became reusable
# and dropout and the vector math faster, vanilla against sift relative with --reuse-scoring-forward,
# licenses seeds 1–3, then python and gcide seeds 1–2, every run with the same binary (vanilla re-run).
#
# Round "rho" (--round rho, into docs/experiment/rho): the schedule re-fitted every 50 steps (the
# calibration alone mis-fitted runs by ±12%), reuse on by default; vanilla and sift greedy top-b at
# ρ = 0.9 and ρ = 0.75 — closer to 1 than the paper's 0.5, because with equal schedules
# (launch/per_sample.sh on licenses) every rule gained about the same per backpropagated sample and a
# larger ρ scores fewer candidates — licenses seeds 1–3; then vanilla and top-b at ρ = 0.75 (the
# closer of the two on licenses) on python seeds 1–2.
#
# Round "vocab" (--round vocab, into docs/experiment/vocab): the cheapest scoring path that keeps the
# ranking (issue 12): `sift train --policy sift`'s defaults — greedy top-b at ρ = 0.75, training resumed
# from the scoring forward — with the exit head's decoder restricted to the 2,048 most frequent training
# tokens (`--score-vocabulary 2048`), against vanilla re-run with the same binary: licenses and python
# seeds 1–2 first, then gcide seeds 1–2 and licenses seed 3.
#
# Round "stage" (--round stage --warm-start DIR, into docs/experiment/timed-CORPUS-MODEL-STAGE): the timed
# decision at a point of launch/stages.sh — from its exported warm start DIR ($SIFT_WORK/stages/CORPUS-MODEL/
# stage-STEP), vanilla against `sift train --policy sift`'s defaults, seeds 1–3, evaluated every 20 steps so
# that the ratio's bracket is at most 20 steps of vanilla's run wide.
#
#   launch/experiment.sh [--smoke] [--round reuse|rho|budget|vocab|stage] [--warm-start DIR] [--out DIR]
#                        [--budget SECONDS] [--only NAME] [--warm-start-only CORPUS] [-- EXTRA_TRAIN_ARGS]
# --only NAME runs the runs whose id (CORPUS-POLICY-sSEED) contains NAME; --warm-start-only CORPUS
# (python, gcide or licenses) prepares that corpus's shared warm start and stops (it is not timed, so it may run
# while the machine is busy; the timed runs should have the machine to themselves).
#
# The first round (no --round) writes into docs/experiment/policies, a round into docs/experiment/ROUND.
# Resumable: a finished run (its metrics end with the final evaluation) is never re-run; an interrupted
# one continues from its newest checkpoint (`--resume`; the training clock is saved with it). A finished
# run's metrics are thinned to what the report reads and compressed (launch/lib.sh's metrics_finish). The report (results.md, PNG curves, and the
# round's table in docs/EXPERIMENTS.md: tools/experiment_report.py) is regenerated from whatever runs
# have finished, after every run.
# --smoke: tiny budgets and evaluation sets, into $SIFT_WORK/experiment-smoke (checks the pipeline only).
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
budget=330; out=""; eval_every=40; eval_samples=1600; subset=2800; only=""; smoke=0; warm_only=""; round=""; stage_warm=""
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) smoke=1; budget=12; eval_every=10; eval_samples=64; subset=400; shift ;;
        --budget) need_value "$@"; budget="$2"; shift 2 ;;
        --out) need_value "$@"; out="$2"; out_given=1; shift 2 ;;
        --only) need_value "$@"; only="$2"; shift 2 ;;
        --round) need_value "$@"; round="$2"; shift 2
                 case "$round" in reuse|rho|budget|vocab|stage) ;; *) usage_error "unknown round '$round' (expected reuse, rho, budget, vocab or stage)" ;; esac ;;
        --warm-start) need_value "$@"; stage_warm="$2"; shift 2 ;;
        --warm-start-only) need_value "$@"; warm_only="$2"; shift 2 ;;
        --) shift; break ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
work="${SIFT_WORK:-work-data}/experiment"
stage_corpus=""
if [ "$round" = stage ]; then
    [ -f "$stage_warm/model.safetensors" ] || { echo "error: --round stage needs --warm-start DIR holding a stage's exported model (got '${stage_warm:-nothing}')" >&2; exit 2; }
    # DIR is .../CORPUS-MODEL/stage-STEP as launch/stages.sh writes it.
    point=$(basename "$(dirname "$stage_warm")")-$(basename "$stage_warm" | sed 's/^stage-//')
    stage_corpus=${point%%-*}
    stage_model=$(echo "$point" | cut -d- -f2) stage_step=${point##*-}
    [ -z "$out" ] && out=docs/experiment/timed-$point
    eval_every=20
elif [ -n "$stage_warm" ]; then
    echo "error: --warm-start is for --round stage" >&2; exit 2
fi
[ -z "$out" ] && out=docs/experiment/${round:-policies}
[ "$smoke" = 1 ] && { work="${SIFT_WORK:-work-data}/experiment-smoke"; out="$work/report${round:+-$round}"; }
# A round's runs keep their checkpoints apart from the first round's (same run ids, other binary), and
# so does an explicit --out (e.g. the same round re-run with a newer binary into another directory).
runs_dir="$work/runs${round:+-$round}"
[ -n "${out_given:-}" ] && runs_dir="$runs_dir-$(basename "$out")"
# SIFT_BINARY pins the binary (e.g. a copy, so rebuilding the checkout cannot change a running experiment).
sift_binary
command -v gnuplot >/dev/null || apt_install gnuplot-nox
mkdir -p "$work" "$out"

# Corpora → vocabularies → datasets (each once; the corpora are described in launch/corpora.sh).
[ "$round" = stage ] || launch/corpora.sh "$work"

# The shared warm start of each corpus: vanilla on the whole training split, exported for --init-from.
base_steps=1000; [ "$smoke" = 1 ] && base_steps=20
warm_start() {  # corpus
    local d="$work/$1" id="$1-warm-start"
    [ -f "$d/warm-start/model.safetensors" ] && return
    mkdir -p "$d/warm-start-checkpoints"
    local resume=(); [ -n "$(ls -A "$d/warm-start-checkpoints" 2>/dev/null)" ] && resume=(--resume)
    [ ${#resume[@]} -eq 0 ] && metrics_remove "$out/$id"
    echo "experiment: $id ($base_steps plain steps on the whole training split${resume:+, resuming})" >&2
    SIFT_PROGRESS=plain launch/mpirun.sh -np 2 -- train --config mini --data "$d/dataset" --policy vanilla \
        --batch-size 32 --steps "$base_steps" --warmup 50 --lr 1e-3 --seed 7 \
        --eval-every "$((base_steps / 5))" --eval-samples "$eval_samples" --check-replicas-every 0 --log-every 50 \
        --checkpoint-dir "$d/warm-start-checkpoints" --checkpoint-every 100 --keep-checkpoints 1 \
        --metrics "$out/$id.jsonl" --export "$d/warm-start" --overwrite-export "${resume[@]}" >> "$out/$id.log" 2>&1 \
        || { echo "error: $id failed; see $out/$id.log" >&2; exit 1; }
    metrics_finish "$out/$id"
}

if [ -n "$warm_only" ]; then warm_start "$warm_only"; echo "experiment: warm start of $warm_only ready" >&2; exit 0; fi

# name corpus seed flags — every run passes --sift-delay 0: the shared warm start is the sifting delay.
runs=()
if [ "$round" = reuse ]; then
    reuse="--policy sift --rule relative --reuse-scoring-forward"
    for seed in 1 2 3; do runs+=("licenses vanilla $seed --policy vanilla" "licenses sift-reuse $seed $reuse"); done
    for seed in 1 2; do runs+=("python vanilla $seed --policy vanilla" "python sift-reuse $seed $reuse"); done
    for seed in 1 2; do runs+=("gcide vanilla $seed --policy vanilla" "gcide sift-reuse $seed $reuse"); done
elif [ "$round" = rho ]; then
    for seed in 1 2 3; do
        runs+=("licenses vanilla $seed --policy vanilla" "licenses sift-top-r90 $seed --policy sift --rule top --select-fraction 0.9"
               "licenses sift-top-r75 $seed --policy sift --rule top --select-fraction 0.75")
    done
    for seed in 1 2; do runs+=("python vanilla $seed --policy vanilla" "python sift-top-r75 $seed --policy sift --rule top --select-fraction 0.75"); done
elif [ "$round" = vocab ]; then
    v2048="--policy sift --rule top --select-fraction 0.75 --score-vocabulary 2048"
    for seed in 1 2; do
        runs+=("licenses vanilla $seed --policy vanilla" "licenses sift-top-r75-v2048 $seed $v2048"
               "python vanilla $seed --policy vanilla" "python sift-top-r75-v2048 $seed $v2048")
    done
    for seed in 1 2; do runs+=("gcide vanilla $seed --policy vanilla" "gcide sift-top-r75-v2048 $seed $v2048"); done
    runs+=("licenses vanilla 3 --policy vanilla" "licenses sift-top-r75-v2048 3 $v2048")
elif [ "$round" = stage ]; then
    for seed in 1 2 3; do
        runs+=("$stage_corpus vanilla $seed --policy vanilla"
               "$stage_corpus sift-top-r75-v2048 $seed --policy sift --rule top --select-fraction 0.75 --score-vocabulary 2048")
    done
elif [ "$round" = budget ]; then
    # Time to vanilla's final loss as a user meets it: SIFT given 3/4 of vanilla's budget, its schedule
    # fitted to that shorter budget, against vanilla with the full budget and vanilla with the same 3/4.
    short=$(( budget * 3 / 4 ))
    for c in licenses python gcide; do
        for seed in 1 2; do
            runs+=("$c vanilla $seed --policy vanilla" "$c vanilla-b75 $seed --policy vanilla --time-budget $short"
                   "$c sift-top-r75-b75 $seed --policy sift --rule top --select-fraction 0.75 --time-budget $short")
        done
    done
fi
if [ -n "$round" ] && [ "$round" != stage ]; then
    # The report reads each corpus's warm-start curve (time 0) from the output directory.
    mkdir -p "$out"
    for c in licenses python gcide; do
        first=docs/experiment/policies/$c-warm-start.jsonl.gz
        [ -f "$out/$c-warm-start.jsonl.gz" ] || [ ! -f "$first" ] || cp "$first" "$out/"
    done
fi
for seed in 1 2; do
    [ -n "$round" ] && break
    runs+=("python vanilla $seed --policy vanilla"
           "python sift-top $seed --policy sift --rule top"
           "python sift-relative $seed --policy sift --rule relative"
           "python sift-relative-stale $seed --policy sift --rule relative --stale-scores 50"
           "python sift-reducible $seed --policy sift --rule relative --score reducible"
           "python exact $seed --policy exact --rule relative")
done
for seed in 1 2; do
    [ -n "$round" ] && break
    runs+=("gcide vanilla $seed --policy vanilla" "gcide sift-relative $seed --policy sift --rule relative")
done
for seed in 1 2 3; do
    [ -n "$round" ] && break
    runs+=("licenses vanilla $seed --policy vanilla" "licenses sift-relative $seed --policy sift --rule relative")
done

declare -A round_heading=([reuse]="training resumes from the scoring forward"
                          [rho]="the schedule re-fitted, greedy top-b at ρ = 0.9 and 0.75"
                          [budget]="SIFT and vanilla given 3/4 of vanilla's budget"
                          [vocab]="scored over the 2,048 most frequent tokens"
                          [stage]="the timed decision from a warm start of launch/stages.sh")
report() {
    local index=(); case "$out" in docs/experiment/*) index=(--index docs/EXPERIMENTS.md) ;; esac
    python3 tools/experiment_report.py --dir "$out" --budget "$budget" --date "$(date -u +%Y-%m-%d)" "${index[@]}" \
        ${round:+--heading "SIFT against plain training, round \"$round\": ${round_heading[$round]}"} \
        ${stage_corpus:+--model "BERT $stage_model (launch/stages.sh's model, vocabulary 8192)" \
            --warm-start "the warm start of launch/stages.sh at step $stage_step of its plain run (12,000-step schedule; time 0 is not on the curves)"} \
        --machine "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(lscpu | sed -n 's/^Model name: *//p' | head -1)" >&2 \
        || echo "warning: the report could not be written" >&2
}

for run in "${runs[@]}"; do
    read -r corpus name seed flags <<<"$run"
    id="$corpus-$name-s$seed"
    [ -n "$only" ] && [[ "$id" != *"$only"* ]] && continue
    metrics="$out/$id.jsonl"
    if metrics_finished "$out/$id"; then
        echo "experiment: $id finished already" >&2; continue
    fi
    ckpt="$runs_dir/$id/checkpoints"
    resume=(); [ -d "$ckpt" ] && [ -n "$(ls -A "$ckpt" 2>/dev/null)" ] && resume=(--resume)
    [ ${#resume[@]} -eq 0 ] && metrics_remove "$out/$id"
    mkdir -p "$ckpt"
    init="$work/$corpus/warm-start" data="$work/$corpus/dataset"
    # A stage's warm start was trained on the dataset launch/stages.sh built beside it.
    if [ -n "$stage_warm" ]; then init="$stage_warm" data="$(dirname "$(dirname "$stage_warm")")/$corpus/dataset"; else warm_start "$corpus"; fi
    run_budget=$budget; [[ "$flags" =~ --time-budget\ ([0-9]+) ]] && run_budget=${BASH_REMATCH[1]}
    echo "experiment: $id (${run_budget} s of training${resume:+, resuming})" >&2
    read -r -a flag_args <<<"$flags"
    SIFT_PROGRESS=plain launch/mpirun.sh -np 2 -- train --init-from "$init" --data "$data" \
        --sift-delay 0 --batch-size 32 --select-fraction 0.5 --exit-layer 1 --seed "$seed" \
        --train-subset "$subset" --time-budget "$budget" --warmup 30 --lr 1e-3 "${flag_args[@]}" \
        --eval-every "$eval_every" --eval-samples "$eval_samples" --fidelity-every "$([ "$name" = vanilla ] && echo 0 || echo 50)" \
        --check-replicas-every 0 --log-every 20 --checkpoint-dir "$ckpt" --checkpoint-every 50 --keep-checkpoints 1 \
        --metrics "$metrics" "${resume[@]}" "$@" >> "$out/$id.log" 2>&1 \
        || { echo "error: $id failed; see $out/$id.log" >&2; exit 1; }
    metrics_finish "$out/$id"
    report
done
report
echo "experiment: report in $out/results.md" >&2
