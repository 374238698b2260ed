#!/usr/bin/env bash
# Measures the time split of a SIFT step and a vanilla step at 2 ranks, with and without
# overlapping the gradient allreduce with backward, and prints one table (mean over the steps
# after the first, rank 0's clock).
#   launch/timesplit.sh [CONFIG] [STEPS]     (default: mini 20; e.g. "base 4")
# Needs the default dataset (run launch/quickstart.sh once, or SIFT_WORK pointing to one).
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
case "${1:-}" in -h|--help) script_help; exit 0 ;; -*) usage_error "unknown option $1" ;; esac
[ $# -le 2 ] || usage_error "expected at most CONFIG and STEPS"
config="${1:-mini}"
steps="${2:-20}"
work="${SIFT_WORK:-work-data}"
[ -f "$work/dataset/manifest.json" ] || { echo "error: no dataset in $work/dataset (run launch/quickstart.sh first)" >&2; exit 2; }
sift_binary
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for policy in vanilla sift; do
    for overlap in on off; do
        flag=(); if [ "$overlap" = off ]; then flag=(--no-overlap); fi
        launch/mpirun.sh -np 2 -- train --config "$config" --data "$work/dataset" --vocab "$work/vocab.txt" \
            --policy "$policy" --exit-layer 1 --select-fraction 0.5 --batch-size 32 --micro-batch 16 \
            --steps "$steps" --warmup 1 --eval-every 0 --eval-samples 16 --check-replicas-every 0 \
            --metrics "$out/$policy-$overlap.jsonl" "${flag[@]}" > "$out/$policy-$overlap.log" 2>&1 \
            || { echo "error: run $policy/$overlap failed:" >&2; tail -5 "$out/$policy-$overlap.log" >&2; exit 1; }
    done
done
python3 - "$out" "$config" <<'PY'
import os, sys
sys.path.insert(0, "tools")
from metrics_io import step_rows
out, config = sys.argv[1], sys.argv[2]
keys = ["data", "scoring", "selection", "forward_backward", "exposed_allreduce", "optimizer", "waiting"]
print(f"time split per step, {config}, 2 ranks, b = 32 (SIFT: exit layer 1, ρ = 0.5), seconds (mean of steps 2..N, rank 0)")
print("| policy | allreduce overlap | " + " | ".join(keys) + " | total |")
print("|---|---|" + "---|" * (len(keys) + 1))
for policy in ["vanilla", "sift"]:
    for overlap in ["on", "off"]:
        rows = step_rows(os.path.join(out, f"{policy}-{overlap}.jsonl"))[1:]
        mean = {k: sum(r["times"][k] for r in rows) / len(rows) for k in keys}
        print(f"| {policy} | {overlap} | " + " | ".join(f"{mean[k]:.3f}" for k in keys) + f" | {sum(mean.values()):.3f} |")
PY
