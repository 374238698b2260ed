#!/usr/bin/env bash
# Rewrites every generated experiment file from the committed logs: each docs/experiment/*/ folder with
# a report.json gets its results.md (and PNG curves) again from its *.jsonl.gz, and docs/EXPERIMENTS.md
# its generated tables. Needs python3 and gnuplot (gnuplot-nox). Nothing is measured or run.
#   tools/regenerate_reports.sh [FOLDER...]      (default: every folder)
set -euo pipefail
cd "$(dirname "$0")/.."
folders=("$@"); [ ${#folders[@]} -gt 0 ] || folders=(docs/experiment/*/)
for d in "${folders[@]}"; do
    d=${d%/}
    [ -f "$d/report.json" ] || { echo "regenerate: $d has no report.json (not generated); skipped" >&2; continue; }
    tool=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tool"])' "$d/report.json")
    echo "regenerate: $d ($tool)" >&2
    python3 "tools/$tool" --dir "$d" --index docs/EXPERIMENTS.md > /dev/null
done
