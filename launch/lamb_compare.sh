#!/usr/bin/env bash
# LAMB against AdamW at global batch 256 (issue 39, item 2): BERT-mini from the quickstart's warm start,
# three seeds each, validation loss and accuracy against samples seen.
#
# The warm start is the quickstart's model: BERT-mini trained by launch/quickstart.sh's own `sift train`
# command (Python documentation corpus, 2 ranks, b 32, AdamW lr 1e-3 with 50 warm-up steps, 300 steps,
# SIFT after a delay of 200 steps, seed 1234), made once here and exported. The run is deterministic, so
# with the same binary it is the quickstart's model; when $SIFT_WORK holds a finished quickstart log its
# final evaluation is compared with the warm start's and the result printed.
# From it, per configuration and seed, one `--policy vanilla` run (only the optimizer differs) on 2 ranks at
# global batch 256 (128 per rank, accumulated in micro-batches of 32), warm-up over 10% of the steps and
# linear decay to 0 at the last step:
#   adamw  AdamW at 2.83e-3: the quickstart's 1e-3 at b 32, × √(256/32) (square-root scaling)
#   lamb   LAMB at 4.42e-4: the LAMB paper's rule, 5/(2^3·10^3) at b 512 scaled by √(256/512)
#   lamb   LAMB at 2.83e-3, AdamW's rate: the control for a paper rate too small for 200 steps of mini
# (docs/TRAINING.md derives both). Validation on the whole held-out split (≈ 30,000 masked tokens) every
# 10% of the steps. tools/lamb_report.py writes OUT/results.md and OUT/verdict.json after every run.
#
#   launch/lamb_compare.sh [--configs "adamw:2.83e-3 lamb:4.42e-4 lamb:2.83e-3"] [--seeds "1 2 3"] [--steps 200]
#                          [--eval-every N] [--eval-samples 0] [--batch-size 256] [--micro-batch 32]
#                          [--warm-start DIR] [--only TEXT] [--out DIR]
#       defaults as shown; --eval-every defaults to a tenth of --steps (eval steps, 0 = only at the end);
#       --eval-samples 0 is the whole held-out split; out docs/experiment/lamb-vs-adamw. A configuration is
#       OPTIMIZER:LR (adamw or lamb); its runs are OUT/bBATCH/OPTIMIZER-lrLR-sSEED. --warm-start DIR uses that
#       HuggingFace export (e.g. `sift train --export`) instead of making the quickstart's. --only runs only
#       the runs whose name (bBATCH/OPTIMIZER-lrLR-sSEED) contains TEXT. Sized for ≤ 3 hours on an idle
#       2-core machine per pair of configurations (6 runs of 6.4 s per step; docs/TRAINING.md): the three
#       defaults take about 3.6 hours, resumable across sessions.
#
# Resumable: a finished run is never re-run; an interrupted one continues bit-exactly from its newest
# checkpoint. Stop it at any time (Ctrl-C, or SIGUSR1 to mpirun: the ranks checkpoint and exit 75) and run
# the same command again to continue. Work files go to $SIFT_WORK/lamb-compare (default work-data); finished
# runs' metrics are thinned and compressed into OUT, so OUT can be committed at any time. SIFT_BINARY pins
# the binary (OUT/binary.txt) and OUT/warm-start.txt the warm start: another of either is refused once a run
# has finished (this script's own warm start, remade on a fresh machine, is admitted when its final validation
# loss matches the committed log's within 0.05 nats). SIFT_RANKS=1 with OPENBLAS_NUM_THREADS=1 trains two
# invocations (--only) side by side, one core each, once the warm start is made; the runs are judged on
# samples seen, not time.
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
usage_status=64
configs="adamw:2.83e-3 lamb:4.42e-4 lamb:2.83e-3"; seeds="1 2 3"; steps=200; eval_every=""; eval_samples=0
batch=256; micro=32; warm=""; only=""; out=docs/experiment/lamb-vs-adamw
while [ $# -gt 0 ]; do
    case "$1" in
        --configs) need_value "$@"; configs="$2"; shift 2 ;;
        --seeds) need_value "$@"; seeds="$2"; shift 2 ;;
        --steps) need_value "$@"; steps="$2"; shift 2 ;;
        --eval-every) need_value "$@"; eval_every="$2"; shift 2 ;;
        --eval-samples) need_value "$@"; eval_samples="$2"; shift 2 ;;
        --batch-size) need_value "$@"; batch="$2"; shift 2 ;;
        --micro-batch) need_value "$@"; micro="$2"; shift 2 ;;
        --warm-start) need_value "$@"; warm="$2"; shift 2 ;;
        --only) need_value "$@"; only="$2"; shift 2 ;;
        --out) need_value "$@"; out="$2"; shift 2 ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
positive='^[1-9][0-9]*$'
[[ "$steps" =~ $positive ]] || usage_error "--steps must be a positive integer (got '$steps')"
[ -n "$eval_every" ] || eval_every=$(( steps / 10 > 0 ? steps / 10 : 1 ))
[[ "$eval_every" =~ ^[0-9]+$ ]] || usage_error "--eval-every must be a non-negative integer (got '$eval_every')"
[[ "$eval_samples" =~ ^[0-9]+$ ]] || usage_error "--eval-samples must be a non-negative integer (got '$eval_samples')"
[[ "$batch" =~ $positive ]] || usage_error "--batch-size must be a positive integer (got '$batch')"
[[ "$micro" =~ $positive ]] || usage_error "--micro-batch must be a positive integer (got '$micro')"
[ -n "${seeds// /}" ] || usage_error "--seeds needs at least one seed"
for s in $seeds; do [[ "$s" =~ ^[0-9]+$ ]] || usage_error "a seed is a non-negative integer (got '$s')"; done
[ -n "${configs// /}" ] || usage_error "--configs needs at least one OPTIMIZER:LR"
for c in $configs; do
    [[ "$c" =~ ^(adamw|lamb):[0-9]+(\.[0-9]+)?([eE]-?[0-9]+)?$ ]] \
        || usage_error "a configuration is OPTIMIZER:LR with OPTIMIZER adamw or lamb, e.g. lamb:4.42e-4 (got '$c')"
done
if [ -n "$warm" ] && [ ! -f "$warm/model.safetensors" ]; then
    echo "error: --warm-start $warm is not a HuggingFace export (no model.safetensors in it)" >&2; exit 2
fi
warmup=$(( (steps + 5) / 10 > 0 ? (steps + 5) / 10 : 1 ))
[ "$warmup" -lt "$steps" ] || warmup=$(( steps - 1 ))
checkpoint_every=$(( eval_every > 0 ? eval_every : steps ))
sift_work="${SIFT_WORK:-work-data}"
work="$sift_work/lamb-compare"
sift_binary
mkdir -p "$out" "$work"
pin_binary "$out"
launch/corpora.sh "$work" python
data="$work/python/dataset"

report() {  # the index's tables are the committed folder's only (not a trial's --out elsewhere)
    local index=(); case "$out" in docs/experiment/*) index=(--index docs/EXPERIMENTS.md) ;; esac
    python3 tools/lamb_report.py --dir "$out" "${index[@]}" >/dev/null || echo "warning: the report could not be written" >&2
}

stopped=0
trap 'stopped=1' INT TERM

# The warm start: the quickstart's training command (launch/quickstart.sh, its defaults) on the same corpus,
# run once as a resumable run of its own and exported; its log is committed as OUT/warm-start.
if [ -z "$warm" ]; then
    warm="$work/warm-start-model"
    if [ ! -f "$warm/model.safetensors" ]; then
        run_resumable "$work/warm-start" "lamb-compare: the warm start (the quickstart's run, 300 steps)" \
            --config mini --data "$data" --policy sift --sift-delay 200 --batch-size 32 --steps 300 --warmup 50 \
            --lr 1e-3 --eval-every 100 --eval-samples 0 --fidelity-every 25 --checkpoint-every 100
        "$bin" export --model "$work/warm-start" --hf "$warm" --overwrite >> "$work/warm-start/train.log" 2>&1 \
            || { echo "error: exporting the warm start failed; see $work/warm-start/train.log" >&2; exit 1; }
        python3 - "$work/warm-start/metrics.jsonl" "$sift_work/metrics.jsonl" <<'PY' || true
import os, sys
sys.path.insert(0, "tools")
from metrics_io import read_rows
def final(path):
    rows = [r for r in read_rows(path) if r.get("final")] if os.path.exists(path) else []
    return rows[-1] if rows else None
ours, quickstart = final(sys.argv[1]), final(sys.argv[2])
if quickstart is None or quickstart["step"] != 300:
    print(f"lamb-compare: warm start made (validation loss {ours['val_loss']:.4f}); no 300-step quickstart log in "
          f"{os.path.dirname(sys.argv[2]) or '.'} to compare it with", file=sys.stderr)
elif abs(ours["val_loss"] - quickstart["val_loss"]) <= 1e-4:
    print(f"lamb-compare: warm start made; its final validation loss {ours['val_loss']:.4f} is the quickstart's",
          file=sys.stderr)
else:
    print(f"lamb-compare: warning: the warm start's final validation loss {ours['val_loss']:.4f} differs from the "
          f"quickstart log's {quickstart['val_loss']:.4f} (another binary, corpus or quickstart arguments)", file=sys.stderr)
PY
    fi
    [ -f "$out/warm-start.jsonl.gz" ] || [ ! -f "$work/warm-start/metrics.jsonl" ] || run_commit "$work/warm-start" "$out/warm-start"
fi
# One warm start per folder, as one binary: OUT/warm-start.txt records its weights' digest. This script's own
# warm start remade on a fresh machine (its work folder gone) differs in the last bits on another CPU; it is
# the same warm start when its final validation loss is within 0.05 nats of the committed log's (as
# launch/stages.sh checks its replays), and a line records its digest beside the first.
sum=$(sha256sum "$warm/model.safetensors" | cut -c1-16)
if [ -f "$out/warm-start.txt" ] && ! grep -q "sha256 $sum" "$out/warm-start.txt" && ls "$out"/*/*.jsonl.gz >/dev/null 2>&1; then
    if [ "$warm" = "$work/warm-start-model" ] && [ -f "$out/warm-start.jsonl.gz" ] && [ -f "$work/warm-start/metrics.jsonl" ] \
        && drift=$(python3 - "$work/warm-start/metrics.jsonl" "$out/warm-start.jsonl.gz" <<'PY'
import sys
sys.path.insert(0, "tools")
from metrics_io import read_rows
remade, committed = ([r for r in read_rows(p) if r.get("final")][-1]["val_loss"] for p in sys.argv[1:3])
print(f"{abs(remade - committed):.6f}")
sys.exit(0 if abs(remade - committed) <= 0.05 else 1)
PY
        ); then
        printf 'sha256 %s (model.safetensors, remade on %s; final validation loss within %s nats of the committed log)\n' \
            "$sum" "$(cpu_name)" "$drift" >> "$out/warm-start.txt"
        echo "lamb-compare: the warm start was remade; its final validation loss is within $drift nats of the committed one" >&2
    else
        echo "error: $out was measured from another warm start ($(head -n 1 "$out/warm-start.txt")); use --out elsewhere" >&2
        exit 2
    fi
fi
[ -f "$out/warm-start.txt" ] || printf 'sha256 %s (model.safetensors)\npath %s\n' "$sum" "$warm" > "$out/warm-start.txt"

for seed in $seeds; do
    for c in $configs; do
        opt=${c%%:*} lr=${c#*:}
        id="b$batch/$opt-lr$lr-s$seed"
        [ -n "$only" ] && [[ "$id" != *"$only"* ]] && continue
        [ -f "$out/$id.jsonl.gz" ] && continue
        run="$work/runs/${id/\//-}"
        mkdir -p "$out/b$batch"
        run_resumable "$run" "lamb-compare: $id ($steps steps at batch $batch)" --init-from "$warm" --data "$data" \
            --policy vanilla --optimizer "$opt" --lr "$lr" --batch-size "$batch" --micro-batch "$micro" \
            --steps "$steps" --warmup "$warmup" --seed "$seed" --eval-every "$eval_every" --eval-samples "$eval_samples" \
            --check-replicas-every 0 --log-every 1 --checkpoint-every "$checkpoint_every" --keep-checkpoints 1
        run_commit "$run" "$out/$id"
        report
    done
done
report
echo "lamb-compare: report in $out/results.md" >&2
