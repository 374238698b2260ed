#!/usr/bin/env bash
# The paper's experiment at this machine's scale: vanilla against SIFT from random initialisation on the
# whole training split, judged by the paper's metric (time to a target validation accuracy).
#
# Per corpus and seed, two runs with one learning-rate schedule (BERT-mini, 2 ranks, b 32, AdamW lr 1e-3,
# 300 warm-up steps, linear decay to 0 at the last step; no --train-subset):
#   vanilla   --policy vanilla
#   sift      --policy sift with its defaults (exit layer 1, greedy top-b, ρ 0.75), started by the trainer
#             when the model has learned a share 0.45 of what a unigram model gets wrong
#             (--sift-delay 0 --sift-start-learned 0.45; docs/DECISIONS.md says where 0.45 comes from)
# Validation on 1,700 held-out sequences (≥ 30,000 masked tokens) every 100 steps and every 25 steps in the
# windows near the crossings (--eval-dense); evaluation is off the training clock.
# tools/paper_report.py writes the table (time to vanilla's best accuracy, to a fixed accuracy mark and to
# vanilla's final loss) into the output directory after every run.
#
#   launch/paper.sh [--corpora "gcide"] [--seeds "1 2 3"] [--steps N] [--dense WINDOWS] [--only TEXT] [--out DIR]
#   launch/paper.sh --step-costs [--corpora "gcide"] [--out DIR]
#       defaults: gcide, seeds 1–3, 6,000 steps, windows 3200-4400:25,4800-6000:25,
#       out docs/experiment/paper. --only runs only the runs whose id (CORPUS/POLICY-sSEED) contains TEXT.
#       --step-costs measures each policy's idle seconds per step, back to back (3 alternating rounds of
#       60 steps each from seed 1's newest vanilla checkpoint), into OUT/step-costs.json; run it on an
#       idle machine.
#
# Resumable: a finished run is never re-run; an interrupted one continues bit-exactly from its newest
# checkpoint (--resume). Stop it at any time (Ctrl-C or SIGTERM: the run checkpoints); run the same command
# again to continue. A run writes its metrics and log under $SIFT_WORK/paper/runs (default work-data/paper);
# when it finishes they are copied to OUT (metrics gzip-compressed), so OUT holds only finished runs and can be
# committed at any time. SIFT_BINARY pins the binary: the commit it was built from is written to
# OUT/binary.txt, and a later invocation with another binary is refused once a run has finished with the
# first, so that one experiment is never measured with two builds. SIFT_RANKS sets the ranks of a run
# (default 2; the results do not depend on it): two invocations with --only, SIFT_RANKS=1 and
# OPENBLAS_NUM_THREADS=1 train two runs side by side on a 2-core machine, one core each.
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
usage_status=64
corpora="gcide"; seeds="1 2 3"; steps=6000; dense="3200-4400:25,4800-6000:25"; only=""; out=docs/experiment/paper
costs=0
while [ $# -gt 0 ]; do
    case "$1" in
        --step-costs) costs=1; shift ;;
        --corpora) need_value "$@"; corpora="$2"; shift 2 ;;
        --seeds) need_value "$@"; seeds="$2"; shift 2 ;;
        --steps) need_value "$@"; steps="$2"; shift 2 ;;
        --dense) need_value "$@"; dense="$2"; shift 2 ;;
        --only) need_value "$@"; only="$2"; shift 2 ;;
        --out) need_value "$@"; out="$2"; shift 2 ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
if ! [[ "$steps" =~ ^[1-9][0-9]*$ ]] || [ "$steps" -le 300 ]; then usage_error "--steps must be an integer above the 300 warm-up steps (got '$steps')"; fi
work="${SIFT_WORK:-work-data}/paper"
sift_binary
mkdir -p "$out"
pin_binary "$out"
read -r -a corpus_names <<<"$corpora"
launch/corpora.sh "$work" "${corpus_names[@]}"

report() {  # the index's tables are the committed folder's only (not a trial's --out elsewhere)
    local index=(); case "$out" in docs/experiment/*) index=(--index docs/EXPERIMENTS.md) ;; esac
    python3 tools/paper_report.py --dir "$out" "${index[@]}" >/dev/null || echo "warning: the report could not be written" >&2
}

# Idle seconds per step of each policy, measured back to back from the same model (the newest checkpoint of
# seed 1's vanilla run), alternating the policies over 3 rounds so that drift in the machine's speed falls on
# both alike. Each round is a 60-step run; the first 10 steps (allocation, warm-up) are left out.
if [ "$costs" -eq 1 ]; then
    c=${corpora%% *}
    ckpt="$work/runs/$c-vanilla-s1"
    ls "$ckpt"/step-*.ckpt >/dev/null 2>&1 || { echo "error: no checkpoint in $ckpt: run launch/paper.sh first" >&2; exit 2; }
    model="$work/step-costs-model"
    rm -rf "$model"
    "$bin" export --model "$ckpt" --hf "$model" >&2
    launch/step_costs.sh --model "$model" --data "$work/$c/dataset" --out "$out/step-costs.json" --work "$work/step-costs-runs"
    report
    exit 0
fi

stopped=0
trap 'stopped=1' INT TERM
for seed in $seeds; do
    for c in $corpora; do
        for policy in vanilla sift; do
            id="$c/$policy-s$seed"
            [ -n "$only" ] && [[ "$id" != *"$only"* ]] && continue
            [ -f "$out/$id.jsonl.gz" ] && continue
            run="$work/runs/$c-$policy-s$seed"
            mkdir -p "$out/$c"
            flags=(--policy vanilla)
            [ "$policy" = sift ] && flags=(--policy sift --sift-delay 0 --sift-start-learned 0.45)
            run_resumable "$run" "paper: $id ($steps steps)" --config mini --data "$work/$c/dataset" \
                --batch-size 32 --steps "$steps" --warmup 300 --lr 1e-3 --seed "$seed" "${flags[@]}" \
                --eval-every 100 --eval-dense "$dense" --eval-samples 1700 --check-replicas-every 0 \
                --log-every 25 --checkpoint-every 250 --keep-checkpoints 2
            run_commit "$run" "$out/$id"
            report
        done
    done
done
report
echo "paper: report in $out/results.md" >&2
