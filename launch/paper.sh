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
#       defaults: gcide, seeds 1–3, 6,000 steps, windows 3200-4400:25,4800-6000:25,
#       out docs/experiment/paper. --only runs only the runs whose id (CORPUS/POLICY-sSEED) contains TEXT.
#
# Resumable: a finished run (its metrics end with the final evaluation) is never re-run; an interrupted one
# continues bit-exactly from its newest checkpoint (--resume). Stop it at any time (Ctrl-C or SIGTERM: the
# run checkpoints); run the same command again to continue. Work files (checkpoints, datasets) go to
# $SIFT_WORK/paper (default work-data/paper). SIFT_BINARY pins the binary: the commit it was built from
# is written to OUT/binary.txt, and a later invocation with another binary is refused while runs are
# unfinished, so that one experiment is never measured with two builds.
set -euo pipefail
cd "$(dirname "$0")/.."
corpora="gcide"; seeds="1 2 3"; steps=6000; dense="3200-4400:25,4800-6000:25"; only=""; out=docs/experiment/paper
while [ $# -gt 0 ]; do
    case "$1" in
        --corpora) corpora="$2"; shift 2 ;;
        --seeds) seeds="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --dense) dense="$2"; shift 2 ;;
        --only) only="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (see launch/paper.sh --help)" >&2; exit 64 ;;
    esac
done
[[ "$steps" =~ ^[1-9][0-9]*$ ]] && [ "$steps" -gt 300 ] || { echo "error: --steps must be an integer above the 300 warm-up steps (got '$steps')" >&2; exit 64; }
work="${SIFT_WORK:-work-data}/paper"
if [ -n "${SIFT_BINARY:-}" ]; then bin="$SIFT_BINARY"; else bin=$(launch/setup.sh | tail -n 1); fi
export SIFT_BINARY="$bin"
mkdir -p "$out"
# One build per experiment: the binary's checksum and the commit are recorded with the first run.
sum=$(sha256sum "$bin" | cut -c1-16)
if [ -f "$out/binary.txt" ] && ! grep -q "sha256 $sum" "$out/binary.txt"; then
    if ls "$out"/*/*.jsonl >/dev/null 2>&1; then
        echo "error: $out was measured with another binary ($(head -n 1 "$out/binary.txt")); pin it with SIFT_BINARY" >&2
        exit 2
    fi
fi
[ -f "$out/binary.txt" ] || printf 'commit %s sha256 %s\ncpu %s\n' "$(git rev-parse --short HEAD)" "$sum" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" > "$out/binary.txt"
# shellcheck disable=SC2086
launch/corpora.sh "$work" $corpora

finished() { [ -f "$1" ] && grep -q '"final":true' "$1"; }
report() { python3 tools/paper_report.py --dir "$out" >&2 || echo "warning: the report could not be written" >&2; }
stopped=0
trap 'stopped=1' INT TERM
for seed in $seeds; do
    for c in $corpora; do
        for policy in vanilla sift; do
            id="$c/$policy-s$seed"
            [ -n "$only" ] && [[ "$id" != *"$only"* ]] && continue
            metrics="$out/$id.jsonl"
            finished "$metrics" && continue
            ckpt="$work/runs/$c-$policy-s$seed"
            mkdir -p "$ckpt" "$out/$c"
            resume=()
            if ls "$ckpt"/step-*.ckpt >/dev/null 2>&1; then resume=(--resume)
            else rm -f "$metrics"; fi
            flags=(--policy vanilla)
            [ "$policy" = sift ] && flags=(--policy sift --sift-delay 0 --sift-start-learned 0.45)
            echo "paper: $id ($steps steps${resume:+, resuming})" >&2
            set +e
            SIFT_PROGRESS=plain launch/mpirun.sh -np 2 -- train --config mini --data "$work/$c/dataset" \
                --batch-size 32 --steps "$steps" --warmup 300 --lr 1e-3 --seed "$seed" "${flags[@]}" \
                --eval-every 100 --eval-dense "$dense" --eval-samples 1700 --check-replicas-every 0 \
                --log-every 25 --checkpoint-dir "$ckpt" --checkpoint-every 250 --keep-checkpoints 2 \
                --metrics "$metrics" "${resume[@]}" >> "$out/$id.log" 2>&1
            status=$?
            set -e
            if [ "$status" -eq 75 ] || [ "$stopped" -eq 1 ]; then
                echo "paper: $id interrupted; run the same command to continue" >&2; report; exit 75
            fi
            [ "$status" -eq 0 ] || { echo "error: $id failed (exit $status); see $out/$id.log" >&2; exit 1; }
            report
        done
    done
done
report
echo "paper: report in $out/results.md" >&2
