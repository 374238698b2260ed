#!/usr/bin/env bash
# How `sift prepare` and `sift vocab` scale from 1 to 2 workers, measured so that a shared machine's drift
# cancels (issue 40's goals). A single timed run per configuration is not enough here: on these VMs the same
# run's time drifts by tens of percent within minutes (docs/BENCHMARKS.md). So the configurations run
# in ROUNDS, one after another in each round — prepare at 1 thread, 2 threads and 2 MPI ranks × 1 thread,
# two independent 1-thread preparations at once (what the machine gives two processes that share nothing:
# the ceiling for the others), vocab at 1 and 2 threads — and each speed-up is a ratio within one round;
# the report gives their median and range over the rounds (tools/prepare_scaling_report.py).
#
#   launch/prepare_scaling.sh [--rounds 8] [--size-mb 48]
#       --rounds: rounds to have measured (default 8); --size-mb: the slice of the corpus each run reads, in
#       MB (10^6 bytes; default 48, about 12 s at 1 thread).
#
# The input is the first SIZE MB (cut at a line end) of launch/prepare_bench.sh's corpus, its parts taken
# in order (a larger SIZE than the corpus is refused), prepared with its vocabulary; run that script first. Results go to $SIFT_WORK/prepare-bench/scaling-SIZE.jsonl, one line
# per run, written as each finishes: a rerun measures only the rounds still missing (delete the file to
# start again). Every preparation must write the same manifest; the script stops at the first that differs.
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
rounds=8; size=48
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) need_value "$@"; rounds="$2"; shift 2 ;;
        --size-mb) need_value "$@"; size="$2"; shift 2 ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || usage_error "--rounds must be a positive integer (got '$rounds')"
[[ "$size" =~ ^[1-9][0-9]*$ ]] || usage_error "--size-mb must be a positive integer (got '$size')"
work="${SIFT_WORK:-work-data}/prepare-bench"
source_file=$(find "$work" -path "$work/corpus-*/part-00.txt" 2>/dev/null | sort | head -n 1)
[ -n "$source_file" ] || { echo "error: no corpus in $work: run launch/prepare_bench.sh first" >&2; exit 1; }
vocab="$(dirname "$(dirname "$source_file")")/vocab-$(basename "$(dirname "$source_file")" | cut -d- -f2).txt"
[ -f "$vocab" ] || { echo "error: $vocab is missing: run launch/prepare_bench.sh first" >&2; exit 1; }
slice="$work/slice-$size"
results="$work/scaling-$size.jsonl"
if [ ! -f "$slice/slice.txt" ]; then
    # The first SIZE MB of the corpus's parts in order, across files (cat ends early on a closed pipe).
    parts=("$(dirname "$source_file")"/part-*.txt)
    have=$(stat -c %s "${parts[@]}" | awk '{ s += $1 } END { print s }')
    [ "$have" -ge $((size * 1000000)) ] \
        || { echo "error: --size-mb $size is more than the corpus's $((have / 1000000)) MB: run launch/prepare_bench.sh --size-mb $size or more first" >&2; exit 2; }
    mkdir -p "$slice"
    { cat "${parts[@]}" || true; } | head -c "$((size * 1000000))" | head -n -1 > "$slice/slice.txt.tmp"
    mv "$slice/slice.txt.tmp" "$slice/slice.txt"
fi
[ -x /usr/bin/time ] || apt_install time
sift_binary
bytes=$(stat -c %s "$slice/slice.txt")
export OPENBLAS_NUM_THREADS=1 SIFT_PROGRESS=plain
cpu=$(cpu_name)
binary_sha=$(sha256sum "$bin" | cut -c1-16)

# run ROUND NAME COMMAND...: times COMMAND, appends its line to the results.
run() {
    local round="$1" name="$2" load manifest=""
    shift 2
    load=$(cut -d' ' -f1 /proc/loadavg)
    rm -rf "$slice/out" "$slice/out-pair"
    /usr/bin/time -f "%e %U %S" -o "$slice/time" "$@" > "$slice/log" 2>&1 \
        || { echo "error: $name (round $round) failed; see $slice/log" >&2; exit 1; }
    [ -f "$slice/out/manifest.json" ] && manifest=$(sha256sum "$slice/out/manifest.json" | cut -c1-64)
    read -r wall user sys < "$slice/time"
    # sift prepare's own clock (its summary line: "… MB in S s"), which starts in the process: without the
    # launch of mpirun's ranks, a fixed cost per job.
    own=$(grep -o 'MB in [0-9.]* s' "$slice/log" | tail -n 1 | awk '{ print $3 }')
    printf '{"round": %d, "name": "%s", "wall": %s, "own": %s, "user": %s, "sys": %s, "load1": %s, "bytes": %d, "manifest": "%s", "binary": "%s", "cpu": "%s"}\n' \
        "$round" "$name" "$wall" "${own:-null}" "$user" "$sys" "$load" "$bytes" "$manifest" "$binary_sha" "$cpu" >> "$results"
    echo "prepare-scaling: round $round $name: ${wall} s wall, ${user} s user" >&2
}
prepare=(prepare --corpus "$slice/slice.txt" --vocab "$vocab" --format text --seq-len 128)
vocab_args=(vocab --corpus "$slice/slice.txt" --size 8192 --out "$slice/out.vocab.txt")
done_rounds=0
[ -f "$results" ] && done_rounds=$(python3 tools/prepare_scaling_report.py rounds "$results")
for round in $(seq $((done_rounds + 1)) "$rounds"); do
    run "$round" prepare-1 "$bin" "${prepare[@]}" --out "$slice/out" --threads 1
    run "$round" prepare-2 "$bin" "${prepare[@]}" --out "$slice/out" --threads 2
    run "$round" prepare-mpi2 launch/mpirun.sh -np 2 -- "${prepare[@]}" --out "$slice/out" --threads 1
    # The machine's own ceiling: two independent 1-thread preparations at once, nothing shared between them.
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
    run "$round" prepare-pair bash -c 's="$1"; shift; "$0" "$@" --out "$s/out" & "$0" "$@" --out "$s/out-pair" & wait' \
        "$bin" "$slice" "${prepare[@]}" --threads 1
    run "$round" vocab-1 "$bin" "${vocab_args[@]}" --threads 1
    run "$round" vocab-2 "$bin" "${vocab_args[@]}" --threads 2
done
python3 tools/prepare_scaling_report.py table "$results"
