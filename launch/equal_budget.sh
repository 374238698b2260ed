#!/usr/bin/env bash
# The timed decision from a late warm start with equal budgets, on the whole training split and on the fixed
# subset side by side: does the subset the earlier timed rounds trained on make selection look better or worse?
#
# Per warm start (a stage of launch/stages.sh's plain run, e.g. gcide-mini-6000), regime and seed, two runs:
#   vanilla   --policy vanilla
#   sift      --policy sift with its defaults (exit layer 1, greedy top-b, ρ 0.75), selecting from step 1
# Both get the same budget of B idle seconds, priced in steps at each policy's idle step cost measured from
# that warm start (launch/step_costs.sh): vanilla trains round(B / c_vanilla) steps and SIFT round(B / c_sift),
# each with its own schedule (lr 1e-3, 30 warm-up steps, linear decay to 0 at its own last step: the
# fully-decayed baseline of Kaddour et al. 2023). Pricing steps instead of reading the runs' clocks lets the
# runs share the machine with other work. Regimes: `whole` trains on the whole training split, `subset` on the
# fixed 2,800-sequence subset the earlier timed rounds used (--train-subset 2800). Validation on 1,700 held-out
# sequences every 20 steps, off the clock. tools/equal_budget_report.py writes the table (time to vanilla's
# final loss and to its final accuracy, each ÷ vanilla's budget) after every run.
#
#   launch/equal_budget.sh --step-costs [--stages "gcide-mini-6000 licenses-mini-2500"] [--out DIR]
#   launch/equal_budget.sh [--stages "gcide-mini-6000 licenses-mini-2500"] [--budget 330]
#                          [--regimes "whole subset"] [--seeds "1 2 3"] [--only TEXT] [--out DIR]
#       defaults as shown; out docs/experiment/equal-budget. A stage is CORPUS-MODEL-STEP; its warm start
#       ($SIFT_WORK/stages/CORPUS-MODEL/stage-STEP) is made by `launch/stages.sh --warm-starts-only` when
#       missing (a replay of the plain run, checked against its committed log). --step-costs measures each
#       stage's idle step costs into OUT/STAGE/step-costs.json (nothing else may run meanwhile); the runs need
#       them. --only runs only the runs whose id (STAGE/REGIME-POLICY-sSEED) contains TEXT.
#
# Resumable: a finished run is never re-run; an interrupted one continues bit-exactly from its newest
# checkpoint. Stop it at any time (Ctrl-C or SIGTERM: the run checkpoints) and run the same command again.
# Work files go to $SIFT_WORK/equal-budget (default work-data/equal-budget); finished runs' metrics are
# thinned and compressed into OUT, so OUT can be committed at any time. SIFT_BINARY pins the binary; OUT/binary.txt
# records it, and another binary is refused once a run has finished. The runs are priced in steps, so two
# invocations with --only (e.g. s1 and s2) can train side by side at one rank each (SIFT_RANKS=1
# OPENBLAS_NUM_THREADS=1) once the warm starts and the step costs exist. A warm start remade on a fresh machine is
# a replay (launch/stages.sh checks its loss at the stage): OUT/STAGE/warm-start.txt lists the digest of every one
# used, each run's committed log names its own, and OUT/STAGE/warm-start.jsonl.gz keeps the first replay's log.
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
usage_status=64
stages="gcide-mini-6000 licenses-mini-2500"; budget=330; regimes="whole subset"; seeds="1 2 3"; only=""
out=docs/experiment/equal-budget; costs=0; eval_every=20; eval_samples=1700
while [ $# -gt 0 ]; do
    case "$1" in
        --step-costs) costs=1; shift ;;
        --stages) need_value "$@"; stages="$2"; shift 2 ;;
        --budget) need_value "$@"; budget="$2"; shift 2 ;;
        --regimes) need_value "$@"; regimes="$2"; shift 2 ;;
        --seeds) need_value "$@"; seeds="$2"; shift 2 ;;
        --only) need_value "$@"; only="$2"; shift 2 ;;
        --out) need_value "$@"; out="$2"; shift 2 ;;
        --eval-every) need_value "$@"; eval_every="$2"; shift 2 ;;
        --eval-samples) need_value "$@"; eval_samples="$2"; shift 2 ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
for s in $stages; do [[ "$s" =~ ^[a-z]+-[a-z0-9]+-[1-9][0-9]*$ ]] || usage_error "a stage is CORPUS-MODEL-STEP, e.g. gcide-mini-6000 (got '$s')"; done
for r in $regimes; do case "$r" in whole|subset) ;; *) usage_error "a regime is whole or subset (got '$r')" ;; esac; done
[[ "$budget" =~ ^[1-9][0-9]*$ ]] || usage_error "--budget must be a positive number of seconds (got '$budget')"
work="${SIFT_WORK:-work-data}/equal-budget"
sift_binary
mkdir -p "$out" "$work"
pin_binary "$out"

report() {  # the index's tables are the committed folder's only (not a trial's --out elsewhere)
    local index=(); case "$out" in docs/experiment/*) index=(--index docs/EXPERIMENTS.md) ;; esac
    python3 tools/equal_budget_report.py --dir "$out" --budget "$budget" "${index[@]}" >/dev/null \
        || echo "warning: the report could not be written" >&2
}

stopped=0
trap 'stopped=1' INT TERM
for stage in $stages; do
    warm=$(stage_warm_start "$stage")
    data=$(stage_dataset "$stage")
    mkdir -p "$out/$stage"
    # A warm start remade on another machine (a replay of the plain run, checked by launch/stages.sh) can differ
    # in its last bits: OUT/STAGE/warm-start.txt lists every one used, and each run's committed log names its own.
    wsum=$(sha256sum "$warm/model.safetensors" | cut -c1-16)
    replay="${SIFT_WORK:-work-data}/stages/${stage%-*}/replay-${stage##*-}.jsonl"  # the log of the replay that made it
    if [ -f "$replay" ] && [ ! -f "$out/$stage/warm-start.jsonl.gz" ]; then
        cp "$replay" "$out/$stage/warm-start.jsonl" && metrics_finish "$out/$stage/warm-start"
    fi
    grep -qs "sha256 $wsum" "$out/$stage/warm-start.txt" \
        || printf 'sha256 %s (model.safetensors), first used %s on %s\n' "$wsum" "$(date -u +%F)" "$(cpu_name)" >> "$out/$stage/warm-start.txt"
    if [ "$costs" -eq 1 ]; then
        launch/step_costs.sh --model "$warm" --data "$data" --out "$out/$stage/step-costs.json" --work "$work/$stage-step-costs" \
            || exit 1
        continue
    fi
    [ -f "$out/$stage/step-costs.json" ] || { echo "error: no idle step costs for $stage: run launch/equal_budget.sh --step-costs --stages $stage on an idle machine first" >&2; exit 2; }
    for seed in $seeds; do
        for regime in $regimes; do
            for policy in vanilla sift; do
                id="$stage/$regime-$policy-s$seed"
                [ -n "$only" ] && [[ "$id" != *"$only"* ]] && continue
                [ -f "$out/$id.jsonl.gz" ] && continue
                steps=$(python3 -c 'import json, sys; print(round(int(sys.argv[2]) / json.load(open(sys.argv[1]))[sys.argv[3]]))' \
                    "$out/$stage/step-costs.json" "$budget" "$policy")
                run="$work/runs/$stage-$regime-$policy-s$seed"
                flags=(--policy vanilla); [ "$policy" = sift ] && flags=(--policy sift --fidelity-every 50)
                [ "$regime" = subset ] && flags+=(--train-subset 2800)
                run_resumable "$run" "equal-budget: $id ($steps steps)" --init-from "$warm" --data "$data" \
                    --sift-delay 0 --batch-size 32 --seed "$seed" --steps "$steps" --warmup 30 --lr 1e-3 "${flags[@]}" \
                    --eval-every "$eval_every" --eval-samples "$eval_samples" --check-replicas-every 0 --log-every 20 \
                    --checkpoint-every 100 --keep-checkpoints 1
                run_commit "$run" "$out/$id"
                echo "warm start: $warm, sha256 $wsum (model.safetensors)" >> "$out/$id.log"
                report
            done
        done
    done
done
[ "$costs" -eq 1 ] && exit 0
report
echo "equal-budget: report in $out/results.md" >&2
