#!/usr/bin/env bash
# The SIFT paper's comparison at our scale: BERT-mini on the default corpus, 2 ranks, the same
# wall-clock budget, seed, b and optimizer for each policy:
#   vanilla · sift at exit layer 1 · sift at exit layer 2 (of 4) · exact
# Writes per-policy metrics, accuracy curves (PNG, gnuplot) and a Markdown table of the time and
# backpropagated samples each policy needed to reach accuracy thresholds, into docs/experiment/.
#
#   launch/experiment.sh [--short] [--budget SECONDS] [--out DIR] [--variants] [-- EXTRA_TRAIN_ARGS]
# --short: 45 s per policy, for a smoke check. Default budget: 360 s per policy.
# --variants: run only the follow-up settings (SIFT at exit layer 1 after 200 plain steps) into the
# same directory, and regenerate the report with every run found there.
set -euo pipefail
cd "$(dirname "$0")/.."
budget=360; out=docs/experiment; eval_every=25; variants=0
while [ $# -gt 0 ]; do
    case "$1" in
        --short) budget=45; eval_every=10; out="${out%/}-short"; shift ;;
        --budget) budget="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --variants) variants=1; shift ;;
        --) shift; break ;;
        *) echo "error: unknown argument '$1' (expected --short, --budget S, --out DIR)" >&2; exit 2 ;;
    esac
done
bin=$(launch/setup.sh | tail -n 1)
export SIFT_BINARY="$bin"
if ! command -v gnuplot >/dev/null; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y -qq gnuplot-nox >&2
fi
work="${SIFT_WORK:-work-data}"
corpus="${SIFT_CORPUS:-/usr/share/doc/python3.11/html/_sources}"
mkdir -p "$work" "$out"
[ -f "$work/vocab.txt" ] || "$bin" vocab --corpus "$corpus" --size 8192 --out "$work/vocab.txt"
[ -f "$work/dataset/manifest.json" ] || "$bin" prepare --corpus "$corpus" --vocab "$work/vocab.txt" --seq-len 128 --out "$work/dataset"

runs=("vanilla:vanilla:1:0" "sift-exit1:sift:1:0" "sift-exit2:sift:2:0" "exact:exact:4:0")
[ "$variants" = 1 ] && runs=("sift-exit1-warm200:sift:1:200")
for run in "${runs[@]}"; do
    IFS=: read -r name policy exit warm <<<"$run"
    echo "experiment: $name (budget ${budget} s)" >&2
    launch/mpirun.sh -np 2 -- train --config mini --data "$work/dataset" --vocab "$work/vocab.txt" \
        --policy "$policy" --exit-layer "$exit" --selection-warmup "$warm" --select-fraction 0.5 --batch-size 32 \
        --steps 100000 --warmup 30 --lr 1e-3 --seed 1234 \
        --time-budget "$budget" --eval-every "$eval_every" --eval-samples 234 --check-replicas-every 0 \
        --fidelity-every "$([ "$policy" = vanilla ] && echo 0 || echo 50)" \
        --metrics "$out/$name.jsonl" "$@" > "$out/$name.log" 2>&1 \
        || { echo "error: $name failed; see $out/$name.log" >&2; exit 1; }
done
python3 tools/experiment_report.py "$out" "$budget" "$(date -u +%Y-%m-%d)" "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "wrote $out/results.md and plots" >&2
