#!/usr/bin/env bash
# Soak run (not in CI): trains BERT-mini on 2 ranks for many steps with evaluation, checkpoints and
# metrics, and checks that nothing grows that should not.
#
#   launch/soak.sh [--steps N] [--out DIR] [-- EXTRA_TRAIN_ARGS]     (default 5000 steps, $SIFT_WORK/soak)
#
# While training, the resident set size (VmRSS) of every rank is sampled each time the metrics file
# passes another 100 steps. At the end it prints and writes to DIR/soak.json:
#   - each rank's RSS after the first evaluation and checkpoint (step 500, or a tenth of the run) and
#     at the end, and the growth between them in MiB and per 1,000 steps;
#   - whether every line of the metrics file parses as JSON, and how many it has;
#   - how many checkpoints the directory holds (must be ≤ --keep-checkpoints, 2 here).
# Exits non-zero when a check fails. Needs the prepared default dataset ($SIFT_WORK/dataset, from
# launch/quickstart.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
steps=5000; work="${SIFT_WORK:-work-data}"; out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --steps) need_value "$@"; steps="$2"; shift 2 ;;
        --out) need_value "$@"; out="$2"; shift 2 ;;
        --) shift; break ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
if ! [[ "$steps" =~ ^[1-9][0-9]*$ ]] || [ "$steps" -lt 200 ]; then usage_error "--steps must be an integer ≥ 200 (got '$steps')"; fi
out="${out:-$work/soak}"
[ -f "$work/dataset/manifest.json" ] || { echo "error: no dataset at $work/dataset (run launch/quickstart.sh first)" >&2; exit 2; }
sift_binary
built="$bin"
# Replace only an earlier soak's directory (marked), never other data.
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ] && [ ! -f "$out/.sift-soak" ]; then
    echo "error: $out exists and is not a soak directory; choose another --out" >&2; exit 2
fi
rm -rf "$out"; mkdir -p "$out"; touch "$out/.sift-soak"
# The ranks run a private copy: rebuilding the checkout during the soak must not change the binary the
# RSS sampler recognises the ranks by (a rebuilt file gives /proc/PID/exe a "(deleted)" name).
bin="$out/sift"; cp "$built" "$bin"
export SIFT_BINARY="$bin"
real=$(readlink -f "$bin")
metrics="$out/metrics.jsonl"; samples="$out/rss.tsv"
: > "$samples"
SIFT_PROGRESS=plain launch/mpirun.sh -np 2 -- train --config mini --data "$work/dataset" --policy sift \
    --batch-size 32 --steps "$steps" --warmup 100 --lr 1e-3 --eval-every 250 --eval-samples 256 \
    --checkpoint-dir "$out/checkpoints" --checkpoint-every 100 --keep-checkpoints 2 \
    --metrics "$metrics" --log-every 100 "$@" > "$out/train.log" 2>&1 &
job=$!
next=100
while kill -0 "$job" 2>/dev/null; do
    sleep 2
    step=$(tail -n 1 "$metrics" 2>/dev/null | sed -n 's/^{"step":\([0-9]*\).*/\1/p')
    if [ -n "$step" ] && [ "$step" -ge "$next" ]; then
        for pid in $(pgrep -f "$bin train" || true); do
            # Only the ranks themselves (mpirun and the launcher carry the same words in their arguments).
            [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$real" ] || continue
            rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [ -n "$rss" ] && printf '%s\t%s\t%s\n' "$step" "$pid" "$rss" >> "$samples"
        done
        next=$(( (step / 100 + 1) * 100 ))
    fi
done
wait "$job" || { echo "error: training failed; see $out/train.log" >&2; exit 1; }
python3 - "$out" "$steps" <<'PY'
import json, os, sys
sys.path.insert(0, "tools")
from metrics_io import parse
out, steps = sys.argv[1], int(sys.argv[2])
rows = [l.split("\t") for l in open(f"{out}/rss.tsv") if l.strip()]
by_pid = {}
for step, pid, kb in rows:
    by_pid.setdefault(pid, []).append((int(step), int(kb)))
settle = min(500, steps // 10)
ranks = []
for pid, s in sorted(by_pid.items()):
    s.sort()
    base = next(((st, kb) for st, kb in s if st >= settle), s[0])
    end = s[-1]
    growth = (end[1] - base[1]) / 1024
    span = max(1, end[0] - base[0])
    ranks.append({"pid": int(pid), "samples": len(s), "from_step": base[0], "rss_mib_then": round(base[1] / 1024, 1),
                  "to_step": end[0], "rss_mib_end": round(end[1] / 1024, 1), "growth_mib": round(growth, 1),
                  "growth_mib_per_1000_steps": round(growth / span * 1000, 2),
                  "max_rss_mib": round(max(kb for _, kb in s) / 1024, 1)})
rows, bad = parse(f"{out}/metrics.jsonl")
lines = len(rows) + bad
ckpts = [f for f in os.listdir(f"{out}/checkpoints") if f.endswith(".ckpt")]
report = {"steps": steps, "ranks": ranks, "metrics_lines": lines, "metrics_unparseable": bad, "checkpoints_kept": len(ckpts)}
json.dump(report, open(f"{out}/soak.json", "w"), indent=1)
for r in ranks:
    print(f"rank pid {r['pid']}: RSS {r['rss_mib_then']} MiB at step {r['from_step']} → {r['rss_mib_end']} MiB at step {r['to_step']} "
          f"({r['growth_mib']:+} MiB, {r['growth_mib_per_1000_steps']:+} MiB per 1,000 steps; peak {r['max_rss_mib']} MiB; {r['samples']} samples)")
print(f"metrics: {lines} lines, {bad} unparseable; checkpoints kept: {len(ckpts)} (limit 2)")
ok = bad == 0 and len(ckpts) <= 2 and len(ranks) == 2 and all(r["growth_mib_per_1000_steps"] < 5 for r in ranks)
print("soak: " + ("PASSED" if ok else "FAILED") + " (flat: < 5 MiB per 1,000 steps per rank)")
sys.exit(0 if ok else 1)
PY
