#!/usr/bin/env bash
# The A/B of docs/BENCHMARKS.md's section on the ranks' wake-ups (issue 40): two sift builds in interleaved
# rounds, each round old and new at 2 ranks x 1 thread, then new and old at 2 threads; one JSON line per run.
#   docs/benchmarks/prepare-wake-ab.sh OLD_BINARY NEW_BINARY CORPUS VOCAB ROUNDS OUT.jsonl
# Run as root with nothing else on the machine; CORPUS is a file or a folder of files.
set -euo pipefail
old="$1"; new="$2"; corpus="$3"; vocab="$4"; rounds="$5"; out="$6"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 SIFT_PROGRESS=plain
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for round in $(seq "$rounds"); do
    for name in old-mpi2 new-mpi2 new-t2 old-t2; do
        if [ "${name%%-*}" = old ]; then b="$old"; else b="$new"; fi
        args=(prepare --corpus "$corpus" --vocab "$vocab" --format text --seq-len 128 --out "$work/out")
        case "$name" in
            *mpi2) cmd=(mpirun -np 2 --bind-to none "$b" "${args[@]}" --threads 1) ;;
            *) cmd=("$b" "${args[@]}" --threads 2) ;;
        esac
        rm -rf "$work/out"
        /usr/bin/time -f "%e %U %S" -o "$work/time" perf stat -x, -e context-switches -o "$work/perf" "${cmd[@]}" \
            > "$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
        read -r wall user sys < "$work/time"
        cs=$(grep context-switches "$work/perf" | cut -d, -f1)
        own=$(grep -o 'MB in [0-9.]* s' "$work/log" | tail -n 1 | awk '{ print $3 }')
        sha=$(sha256sum "$work/out/manifest.json" | cut -c1-12)
        printf '{"round": %d, "name": "%s", "wall": %s, "own": %s, "user": %s, "sys": %s, "cs": %s, "manifest": "%s"}\n' \
            "$round" "$name" "$wall" "$own" "$user" "$sys" "$cs" "$sha" | tee -a "$out"
    done
done
