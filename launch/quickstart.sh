#!/usr/bin/env bash
# README's main command, about 10 minutes on 2 cores: from a fresh machine to a BERT-mini trained
# with SIFT on 2 ranks, and a summary of what the run did.
#   default corpus (Debian's python3.11-doc reST sources) → WordPiece vocabulary → 128-token shards →
#   `sift train` with its selection defaults (SIFT at exit layer 1, greedy top-b at ρ = 0.75, scored
#   over the 2,048 most frequent tokens) for 300 steps on 2 ranks, of which the first 200 are plain
#   (the sifting delay: the model leaves the unigram plateau first) and the last 100 select →
#   validation on the whole held-out split (≈ 30,000 masked tokens) at steps 100, 200 and 300, the
#   exit-1 ranking checked against the exact loss every 25 steps (off the clock) →
#   exported HuggingFace model → `sift summary`.
# Outputs go to $SIFT_WORK (default ./work-data). Extra arguments are passed to `sift train` and win
# over the ones here; the longer run (≈ 40 min here, docs/TRAINING.md):
#   launch/quickstart.sh --steps 1300 --sift-delay 1000 --eval-every 250
# SIFT_BINARY skips the install and build and uses that binary; SIFT_CORPUS replaces the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
case "${1:-}" in -h|--help) script_help; exit 0 ;; esac
started=$(date +%s)
sift_binary
built=$(date +%s)
work="${SIFT_WORK:-work-data}"
# --format auto reads the reStructuredText sources as rst (markup removed); 10% of the documents are
# held out: ~1,600 sequences, > 30,000 masked validation tokens.
prepare_corpus "$work" "${SIFT_CORPUS:-/usr/share/doc/python3.11/html/_sources}" auto 0.1
prepared=$(date +%s)
# Run again, the main job starts over (its earlier checkpoints and metrics are replaced) unless the extra
# arguments continue it (--resume or --resume-or-start).
again=(--start-over)
for a in "$@"; do case "$a" in --resume|--resume-or-start) again=() ;; esac; done
launch/mpirun.sh -np 2 -- train \
    --config mini --data "$work/dataset" \
    --policy sift --sift-delay 200 \
    --batch-size 32 --steps 300 --warmup 50 --lr 1e-3 \
    --eval-every 100 --eval-samples 0 --fidelity-every 25 \
    --checkpoint-dir "$work/checkpoints" --checkpoint-every 100 \
    --metrics "$work/metrics.jsonl" --export "$work/model" --overwrite-export "${again[@]}" "$@"
trained=$(date +%s)
echo
"$bin" summary --metrics "$work/metrics.jsonl" --model "$work/model" --checkpoint-dir "$work/checkpoints" --data "$work/dataset" \
    --wall-seconds "$((trained - prepared))"
echo "quickstart: $((trained - started)) s in all: install and build $((built - started)) s," \
     "vocabulary and shards $((prepared - built)) s, sift train $((trained - prepared)) s"
