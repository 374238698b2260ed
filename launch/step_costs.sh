#!/usr/bin/env bash
# Idle seconds per training step of vanilla and of `sift train --policy sift`, measured back to back from
# one model: the price of a step that launch/paper.sh and launch/equal_budget.sh turn step counts into time
# with, since their long runs share the machine with other work and their own clocks are not comparable.
#
#   launch/step_costs.sh --model DIR --data DATASET --out FILE [--rounds 3] [--steps 60] [--work DIR]
#                        [-- EXTRA_TRAIN_ARGS]
#       --model: a HuggingFace directory (sift export) to start every round from; --data: its dataset.
#       The policies alternate over the rounds (vanilla, sift, vanilla, …) so that drift in the machine's
#       speed falls on both alike; each round is a 2-rank run of --steps steps (b 32, lr 1e-4, no
#       evaluation), and its first 10 steps (allocation, warm-up) are left out of the mean. SIFT runs with
#       `--sift-delay 0` and its defaults; EXTRA_TRAIN_ARGS go to both policies. Writes FILE (JSON:
#       vanilla and sift seconds per step, the per-round figures, the CPU, the command). Run it on an idle
#       machine: nothing else may run while it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
model=""; data=""; file=""; rounds=3; steps=60; work=""
while [ $# -gt 0 ]; do
    case "$1" in
        --model) need_value "$@"; model="$2"; shift 2 ;;
        --data) need_value "$@"; data="$2"; shift 2 ;;
        --out) need_value "$@"; file="$2"; shift 2 ;;
        --rounds) need_value "$@"; rounds="$2"; shift 2 ;;
        --steps) need_value "$@"; steps="$2"; shift 2 ;;
        --work) need_value "$@"; work="$2"; shift 2 ;;
        --) shift; break ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
[ -f "$model/model.safetensors" ] || usage_error "--model must be a HuggingFace directory written by sift export (got '${model:-nothing}')"
[ -f "$data/manifest.json" ] || usage_error "--data must be a dataset written by sift prepare (got '${data:-nothing}')"
[ -n "$file" ] || usage_error "--out FILE is required"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || usage_error "--rounds must be a positive integer (got '$rounds')"
{ [[ "$steps" =~ ^[0-9]+$ ]] && [ "$steps" -ge 20 ]; } || usage_error "--steps must be an integer ≥ 20 (got '$steps')"
sift_binary
work=${work:-$(dirname "$file")/step-costs-runs}
mkdir -p "$work"
measured=()
for round in $(seq 1 "$rounds"); do
    for policy in vanilla sift; do
        m="$work/$policy-$round.jsonl"; rm -f "$m"
        flags=(--policy vanilla); [ "$policy" = sift ] && flags=(--policy sift --sift-delay 0)
        echo "step costs: round $round, $policy ($steps steps)" >&2
        SIFT_PROGRESS=plain launch/mpirun.sh -np 2 -- train --init-from "$model" --data "$data" \
            --batch-size 32 --steps "$steps" --warmup 0 --lr 1e-4 --seed 1 "${flags[@]}" --eval-every 0 --eval-samples 64 \
            --check-replicas-every 0 --log-every 1 --metrics "$m" "$@" > "$work/$policy-$round.log" 2>&1 \
            || { echo "error: the $policy step-cost run failed; see $work/$policy-$round.log" >&2; exit 1; }
        measured+=("$policy=$m")
    done
done
python3 - "$file" "$(cpu_name)" "$steps" "launch/step_costs.sh --model $model --data $data --rounds $rounds --steps $steps${*:+ -- $*}" \
    "${measured[@]}" <<'PY'
import json, sys
sys.path.insert(0, "tools")
from metrics_io import step_rows
out, cpu, steps, command, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
per = {"vanilla": [], "sift": []}
for spec in runs:
    policy, path = spec.split("=", 1)
    rows = {r["step"]: r for r in step_rows(path)}
    per[policy].append((rows[steps]["elapsed"] - rows[10]["elapsed"]) / (steps - 10))
result = {p: sum(v) / len(v) for p, v in per.items()}
result.update({"rounds": per, "cpu": cpu, "command": command})
with open(out + ".tmp", "w") as fh:
    json.dump(result, fh, indent=1)
    fh.write("\n")
import os
os.replace(out + ".tmp", out)
print(f"step costs: vanilla {result['vanilla']:.4f} s, sift {result['sift']:.4f} s "
      f"({100 * (result['sift'] / result['vanilla'] - 1):+.1f}%), rounds {per}", file=sys.stderr)
PY
