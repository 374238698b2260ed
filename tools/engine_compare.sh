#!/usr/bin/env bash
# Every ratio of the performance issue from one run, back to back on this machine (manual, not in CI:
# needs PyTorch and transformers, e.g. a venv with `pip install torch transformers`).
#
# Usage: tools/engine_compare.sh [--no-ddp] PYTHON SIFT_BINARY DATASET [OUT]
#   --no-ddp     leave out the 2-rank DDP comparison (the single-process engine ratios only)
#   PYTHON       an interpreter with torch and transformers
#   SIFT_BINARY  a release build of sift
#   DATASET      a `sift prepare` dataset, sequence length 128 (its vocabulary sets DDP's V; the
#                quickstart's has V 8192)
#   OUT          where the whole log goes (default: docs/benchmarks/engine-compare.txt)
#
# Measures, in this order: the sgemm peak and one training step (b 32, T 128, 1 process × 2 threads)
# of BERT-mini and BERT-base at V 30522, vanilla and SIFT at exit 1, ρ 0.5, the training forward reusing
# the scoring forward, scored over all classes and over the 2048 most frequent (`sift bench --only
# sgemm,step`); the same for mini at V 8192; PyTorch eager and torch.compile (inductor) with the
# MLM head on masked positions (tools/torch_baseline.py) for mini and base; 2-rank data-parallel
# training against PyTorch DDP (tools/ddp_compare.py), mini over 24 steps and base over 8.
set -euo pipefail
cd "$(dirname "$0")/.."
ddp=1
if [ "${1:-}" = "--no-ddp" ]; then ddp=0; shift; fi
if [ $# -lt 3 ]; then
    echo "usage: tools/engine_compare.sh [--no-ddp] PYTHON SIFT_BINARY DATASET [OUT]" >&2
    exit 2
fi
python=$1 sift=$2 data=$3 out=${4:-docs/benchmarks/engine-compare.txt}
[ -x "$sift" ] || { echo "engine_compare: $sift is not an executable sift binary" >&2; exit 2; }
[ -f "$data/manifest.json" ] || { echo "engine_compare: $data has no manifest.json (not a sift prepare dataset)" >&2; exit 2; }
"$python" -c "import torch, transformers" 2>/dev/null \
    || { echo "engine_compare: $python cannot import torch and transformers" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
flags=$(grep -q -w avx512f /proc/cpuinfo && echo avx512f || { grep -q -w avx2 /proc/cpuinfo && echo avx2; } || true)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
    echo "# tools/engine_compare.sh, $(date -u +%Y-%m-%d\ %H:%M) UTC; $(nproc) cores, $cpu ($flags); $("$python" -c 'import torch; print("torch", torch.__version__)')"
    echo "# sift: $sift ($(git rev-parse --short HEAD 2>/dev/null || echo '?')); dataset: $data"
    step=(bench --only "sgemm,step" --exit-layers 1 --score-positions 0 --reuse-scoring-forward on --score-vocabularies "0,2048"
          --select-fraction 0.5 --repeats 3)
    echo "## sift mini,base V 30522: OPENBLAS_NUM_THREADS=2 sift ${step[*]} --configs mini,base"
    OPENBLAS_NUM_THREADS=2 "$sift" "${step[@]}" --configs mini,base
    echo "## sift mini V 8192: OPENBLAS_NUM_THREADS=2 sift ${step[*]} --configs mini --vocab-size 8192"
    OPENBLAS_NUM_THREADS=2 "$sift" "${step[@]}" --configs mini --vocab-size 8192
    for config in mini base; do
        echo "## torch $config: tools/torch_baseline.py $config 2 --masked-head"
        "$python" tools/torch_baseline.py "$config" 2 --masked-head
        echo "## torch.compile $config: tools/torch_baseline.py $config 2 --masked-head --compile"
        "$python" tools/torch_baseline.py "$config" 2 --masked-head --compile || echo "(torch.compile: exit $?)"
    done
    if [ $ddp = 1 ]; then
        echo "## DDP mini: tools/ddp_compare.py --configs mini --steps 24"
        "$python" tools/ddp_compare.py --sift "$sift" --data "$data" --configs mini --steps 24
        echo "## DDP base: tools/ddp_compare.py --configs base --steps 8"
        "$python" tools/ddp_compare.py --sift "$sift" --data "$data" --configs base --steps 8
    fi
} 2>&1 | tee "$tmp"
mkdir -p "$(dirname "$out")"
mv "$tmp" "$out"
trap - EXIT
echo "engine_compare: wrote $out" >&2
