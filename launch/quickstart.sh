#!/usr/bin/env bash
# README's main command: from a fresh machine to a BERT-mini trained with SIFT on 2 ranks.
#   default corpus (Debian's python3.11-doc reST sources) → WordPiece vocab → shards →
#   `sift train` with its selection defaults (mini, SIFT at exit layer 1, the paper's greedy top-b at
#   ρ = 0.75, scored over the 2,048 most frequent tokens, training resuming from the scoring forward,
#   after 1,000 plain steps; 2 ranks; 1,300 steps) → validation accuracy + exported model. The plain
#   steps are there because from scratch the model spends them leaving the unigram plateau, where
#   selecting by loss would keep it (README, "SIFT against plain training").
# Outputs go to $SIFT_WORK (default: ./work-data). Extra arguments are passed to `sift train`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(launch/setup.sh | tail -n 1)
export SIFT_BINARY="$bin"
work="${SIFT_WORK:-work-data}"
corpus="${SIFT_CORPUS:-/usr/share/doc/python3.11/html/_sources}"
mkdir -p "$work"
if [ ! -f "$work/vocab.txt" ]; then
    "$bin" vocab --corpus "$corpus" --size 8192 --out "$work/vocab.txt"
fi
if [ ! -f "$work/dataset/manifest.json" ]; then
    # --format auto reads the reStructuredText sources as rst (markup removed); 10% of the documents are
    # held out: ~1,600 sequences, > 30,000 masked validation tokens.
    "$bin" prepare --corpus "$corpus" --vocab "$work/vocab.txt" --seq-len 128 --validation-fraction 0.1 --out "$work/dataset"
fi
launch/mpirun.sh -np 2 -- train \
    --config mini --data "$work/dataset" \
    --policy sift \
    --batch-size 32 --steps 1300 --warmup 50 --lr 1e-3 \
    --eval-every 250 --eval-samples 0 \
    --checkpoint-dir "$work/checkpoints" --checkpoint-every 250 \
    --metrics "$work/metrics.jsonl" --export "$work/model" --overwrite-export "$@"
