#!/usr/bin/env bash
# `sift prepare` and `sift vocab` on a large corpus against HF tokenizers (issue 40, item 6): MB/s,
# tokens/s, peak resident memory and wall time of
#   - sift vocab (8,192 pieces) at 2 threads (the vocabulary every run below uses) and at 1 thread;
#   - sift prepare (--format text, 128-token sequences) at 1 thread, at 2 threads, and as 2 MPI ranks of
#     1 thread each (launch/mpirun.sh; every rank's peak memory measured by /usr/bin/time -v around it);
#   - HF tokenizers' BertWordPieceTokenizer with the same vocab.txt (encode_batch on all threads, batches
#     of lines: tools/hf_prepare_bench.py, in a venv of its own with tokenizers from PyPI).
# It fails when the three datasets differ, when the vocabularies at 1 and 2 threads differ, or when HF's
# token ids differ from `sift tokenize` on a sample of lines spread over the corpus.
#
#   launch/prepare_bench.sh [--size-mb 1100] [--files 12] [--sample-lines 2000] [--skip-hf]
#       --size-mb: the corpus's size in MB (10^6 bytes; default 1100); --files: files it is split into
#       (default 12); --sample-lines: lines compared with HF (default 2000); --skip-hf: no HF measurement.
#
# The corpus is this machine's own text: the GCIDE dictionary (dict-gcide, installed if missing),
# Python's documentation sources, /usr/share/doc/*/*.txt and the man pages (/usr/share/man/man*/*.gz),
# concatenated, then REPEATED to the size asked for and split at line ends: a throughput test, not a
# corpus of that many distinct words. Everything goes to $SIFT_WORK/prepare-bench (default
# work-data/prepare-bench): corpus-N/ (kept between runs; rebuilt when missing or of another size),
# vocab-N.txt, the datasets, logs-N/, and results-N.json, written as each measurement finishes, so a
# rerun skips what is measured (delete a measurement from the file, or the file, to measure again).
# Each measurement records the CPU, the exact command and the load average at its start and end; before
# each, it waits up to 3 minutes for the 1-minute load average (which still holds the previous
# measurement's own load) to fall to 0.5, and one started above 0.5 is flagged as busy. The table for docs/BENCHMARKS.md is
# printed at the end and written to table-N.md (tools/prepare_bench_report.py table). Run it on an idle
# machine: a 1.1 GB run takes about 35 minutes on 2 cores and needs about 4 GB of disk (the corpus and
# three datasets of about 0.75 GB each, kept for the comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
size=1100; files=12; sample=2000; skip_hf=0
while [ $# -gt 0 ]; do
    case "$1" in
        --size-mb) need_value "$@"; size="$2"; shift 2 ;;
        --files) need_value "$@"; files="$2"; shift 2 ;;
        --sample-lines) need_value "$@"; sample="$2"; shift 2 ;;
        --skip-hf) skip_hf=1; shift ;;
        -h|--help) script_help; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
[[ "$size" =~ ^[1-9][0-9]*$ ]] || usage_error "--size-mb must be a positive integer (got '$size')"
{ [[ "$files" =~ ^[1-9][0-9]*$ ]] && [ "$files" -le 99 ]; } || usage_error "--files must be an integer from 1 to 99 (got '$files')"
[[ "$sample" =~ ^[1-9][0-9]*$ ]] || usage_error "--sample-lines must be a positive integer (got '$sample')"
[ -x /usr/bin/time ] || apt_install time
sift_binary
work="${SIFT_WORK:-work-data}/prepare-bench"
mkdir -p "$work"
work=$(cd "$work" && pwd)
corpus="$work/corpus-$size"
stamp="$work/corpus-$size.json"
logs="$work/logs-$size"
results="$work/results-$size.json"
vocab="$work/vocab-$size.txt"
report=(python3 tools/prepare_bench_report.py)
export OPENBLAS_NUM_THREADS=1 SIFT_PROGRESS=plain
mkdir -p "$logs"

# The corpus's current total bytes ("" when it is not there).
corpus_bytes() {
    [ -d "$corpus" ] || return 0
    find "$corpus" -maxdepth 1 -type f -name 'part-*' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

# build_corpus: corpus-N/part-00.txt … from the machine's text, repeated to N MB, unless it is there already.
build_corpus() {
    if [ -f "$stamp" ] && [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$stamp")" = "$(corpus_bytes)" ] \
        && [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"])' "$stamp")" = "$files" ]; then
        return 0
    fi
    [ -f /usr/share/dictd/gcide.dict.dz ] || apt_install dict-gcide
    echo "prepare-bench: building the $size MB corpus in $corpus" >&2
    rm -rf "$corpus" "$corpus.tmp" "$stamp"
    mkdir -p "$corpus.tmp"
    local base="$corpus.tmp/.base" all="$corpus.tmp/.all" sources=() total reps distinct
    {
        if [ -f /usr/share/dictd/gcide.dict.dz ]; then zcat /usr/share/dictd/gcide.dict.dz; fi
        if [ -d /usr/share/doc/python3.11/html/_sources ]; then
            find /usr/share/doc/python3.11/html/_sources -type f -name '*.txt' -print0 | LC_ALL=C sort -z | xargs -0 -r cat
        fi
        find /usr/share/doc -mindepth 2 -maxdepth 2 -type f -name '*.txt' -print0 | LC_ALL=C sort -z | xargs -0 -r cat
        find /usr/share/man -path '/usr/share/man/man*' -type f -name '*.gz' -print0 | LC_ALL=C sort -z | xargs -0 -r zcat -f
    } > "$base"
    [ -f /usr/share/dictd/gcide.dict.dz ] && sources+=("the GCIDE dictionary")
    [ -d /usr/share/doc/python3.11/html/_sources ] && sources+=("Python's documentation sources")
    sources+=("/usr/share/doc/*/*.txt" "the man pages")
    distinct=$(stat -c %s "$base")
    [ "$distinct" -gt 0 ] || { echo "error: found no text on this machine to build the corpus from" >&2; exit 1; }
    total=$((size * 1000000)); reps=$(( (total + distinct - 1) / distinct ))
    { for _ in $(seq "$reps"); do cat "$base"; done || true; } | head -c "$total" > "$all"
    # Cut the last line where the corpus ends whole (no line, or UTF-8 sequence, cut in two).
    python3 -c 'import os,sys
f = open(sys.argv[1], "r+b"); n = os.path.getsize(sys.argv[1]); f.seek(max(0, n - (1 << 20))); tail = f.read()
f.truncate(n - len(tail) + tail.rindex(b"\n") + 1)' "$all"
    split -n "l/$files" -d -a 2 --additional-suffix=.txt "$all" "$corpus.tmp/part-"
    rm -f "$base" "$all"
    mv "$corpus.tmp" "$corpus"
    python3 -c 'import json,sys
json.dump({"dir": sys.argv[1], "bytes": int(sys.argv[2]), "files": int(sys.argv[3]), "distinct_bytes": int(sys.argv[4]),
           "sources": sys.argv[5]}, open(sys.argv[6], "w"), indent=1)' \
        "$corpus" "$(corpus_bytes)" "$files" "$distinct" "$(joined=$(printf '%s, ' "${sources[@]}"); echo "${joined%, }")" "$stamp"
}

build_corpus
bytes=$(corpus_bytes)
echo "prepare-bench: corpus $corpus: $("${report[@]}" corpus "$stamp")" >&2
"${report[@]}" init "$results" --size-mb "$size" --cpu "$(cpu_name)" --corpus-json "$stamp" --binary "$bin"

# measure NAME LABEL KIND THREADS RANKS MANIFEST COMMAND...: runs COMMAND under /usr/bin/time -v (its
# output to logs-N/NAME.log) unless NAME is measured already, and records it. MANIFEST ("" for none) is
# the dataset manifest it writes. With $rank_times set (a prefix), each rank wrote PREFIX.RANK.time.
measure() {
    local name="$1" label="$2" kind="$3" threads="$4" ranks="$5" manifest="$6" start end extra=() r
    shift 6
    if "${report[@]}" has "$results" "$name"; then
        echo "prepare-bench: $label: measured already (in $results)" >&2
        return 0
    fi
    # The 1-minute load average still holds the previous measurement's own load (it decays with a 1-minute
    # time constant): wait up to 3 minutes for it to fall to 0.5, so that "busy" means other work.
    local waited=0
    while [ "$waited" -lt 180 ] && awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l > 0.5) }'; do
        [ "$waited" -eq 0 ] && echo "prepare-bench: waiting for the load average to settle before $label" >&2
        sleep 10
        waited=$((waited + 10))
    done
    start=$(cut -d' ' -f1-3 /proc/loadavg)
    if awk -v l="${start%% *}" 'BEGIN { exit !(l > 0.5) }'; then
        echo "warning: $label starts with a 1-minute load average of ${start%% *} (above 0.5: the machine is busy); recorded" >&2
    fi
    echo "prepare-bench: $label ..." >&2
    /usr/bin/time -v -o "$logs/$name.time" "$@" > "$logs/$name.log" 2>&1 \
        || { echo "error: $label failed; see $logs/$name.log" >&2; exit 1; }
    end=$(cut -d' ' -f1-3 /proc/loadavg)
    [ -n "$manifest" ] && extra+=(--manifest "$manifest")
    [ "$kind" = hf ] || extra+=(--binary "$bin")
    [ -f "$logs/$name.extra.json" ] && extra+=(--extra "$logs/$name.extra.json")
    if [ -n "${rank_times:-}" ]; then
        for r in $(seq 0 $((ranks - 1))); do extra+=(--rank-time "$rank_times.$r.time"); done
    fi
    "${report[@]}" record "$results" "$name" --label "$label" --kind "$kind" --threads "$threads" --ranks "$ranks" \
        --command "${shown:-$*}" --time "$logs/$name.time" --load-start "$start" --load-end "$end" \
        --input-bytes "$bytes" --log "$logs/$name.log" "${extra[@]}"
}

# The vocabulary: learned at 2 threads (the one every measurement below uses), and at 1 thread, which
# must give the same file. Without it, what was measured with it is measured again.
[ -f "$vocab" ] || "${report[@]}" forget "$results" vocab-2 vocab-1 vocab-identical prepare-1 prepare-2 prepare-mpi2 \
    datasets-identical hf hf-sample
shown="sift vocab --corpus $corpus --size 8192 --out $vocab --threads 2"
measure vocab-2 "sift vocab, 2 threads" vocab 2 1 "" "$bin" vocab --corpus "$corpus" --size 8192 --out "$vocab" --threads 2
shown="sift vocab --corpus $corpus --size 8192 --out $work/vocab-$size-t1.txt --threads 1"
measure vocab-1 "sift vocab, 1 thread" vocab 1 1 "" "$bin" vocab --corpus "$corpus" --size 8192 --out "$work/vocab-$size-t1.txt" --threads 1
if ! "${report[@]}" has "$results" vocab-identical; then
    cmp -s "$vocab" "$work/vocab-$size-t1.txt" || { echo "error: sift vocab learned different vocabularies at 1 and 2 threads ($vocab, $work/vocab-$size-t1.txt)" >&2; exit 1; }
    counts=$(grep -o 'counts exact.*\|pruned .*' "$logs/vocab-2.log" | tail -n 1 || true)
    "${report[@]}" check "$results" vocab-identical --json "$(python3 -c 'import json,sys; print(json.dumps({"same": True, "counts": sys.argv[1]}))' "$counts")"
fi

# sift prepare at 1 and 2 threads and on 2 ranks: the same dataset each time.
# prepare_args NAME THREADS: sets $a to the arguments of one preparation into dataset-N-NAME.
prepare_args() { a=(--corpus "$corpus" --vocab "$vocab" --format text --seq-len 128 --out "$work/dataset-$size-$1" --threads "$2"); }
for t in 1 2; do
    prepare_args "$t" "$t"
    shown="sift prepare ${a[*]}"
    measure "prepare-$t" "sift prepare, $t thread$([ "$t" = 1 ] || echo s)" prepare "$t" 1 "$work/dataset-$size-$t/manifest.json" "$bin" prepare "${a[@]}"
done
# Each rank runs under /usr/bin/time -v (a wrapper given to launch/mpirun.sh as the sift binary), so the
# peak memory is the ranks', not mpirun's; OMPI_COMM_WORLD_RANK names each rank's file.
wrapper="$work/timed-sift"
# shellcheck disable=SC2016 # $OMPI_COMM_WORLD_RANK and $@ are the wrapper's, expanded when a rank starts
printf '#!/bin/sh\nexec /usr/bin/time -v -o "%s.$OMPI_COMM_WORLD_RANK.time" "%s" "$@"\n' "$logs/prepare-mpi2.rank" "$bin" > "$wrapper"
chmod +x "$wrapper"
prepare_args mpi2 1
shown="launch/mpirun.sh -np 2 -- prepare ${a[*]}  (each rank under /usr/bin/time -v)"
rank_times="$logs/prepare-mpi2.rank" SIFT_BINARY="$wrapper" measure prepare-mpi2 "sift prepare, 2 ranks × 1 thread" prepare 1 2 \
    "$work/dataset-$size-mpi2/manifest.json" launch/mpirun.sh -np 2 -- prepare "${a[@]}"
if ! "${report[@]}" has "$results" datasets-identical; then
    "${report[@]}" same "$results" prepare-1 prepare-2 prepare-mpi2
    for d in 2 mpi2; do
        diff -r -q "$work/dataset-$size-1" "$work/dataset-$size-$d" >&2 \
            || { echo "error: the datasets of sift prepare at 1 thread and $d differ ($work/dataset-$size-1, $work/dataset-$size-$d)" >&2; exit 1; }
    done
    sum=$(sha256sum "$work/dataset-$size-1/manifest.json" | cut -c1-64)
    "${report[@]}" check "$results" datasets-identical --json "{\"same\": true, \"manifest_sha256\": \"$sum\"}"
    echo "prepare-bench: the datasets at 1 thread, 2 threads and 2 ranks are identical" >&2
fi

# HF tokenizers in a venv of its own (PyPI's tokenizers; never part of CI).
if [ "$skip_hf" = 0 ]; then
    venv="$work/venv"
    if ! "$venv/bin/python" -c 'import tokenizers' 2>/dev/null; then
        python3 -c 'import ensurepip' 2>/dev/null || apt_install python3-venv
        echo "prepare-bench: installing tokenizers into $venv" >&2
        if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q tokenizers; } > "$logs/pip.log" 2>&1; then
            echo "error: could not install tokenizers into $venv; see $logs/pip.log" >&2; exit 1
        fi
    fi
    shown="python tools/hf_prepare_bench.py bench --vocab $vocab --corpus $corpus --batch-lines 10000"
    measure hf "HF tokenizers" hf "$(nproc)" 1 "" "$venv/bin/python" tools/hf_prepare_bench.py bench \
        --vocab "$vocab" --corpus "$corpus" --batch-lines 10000 --json-out "$logs/hf.extra.json"
    if ! "${report[@]}" has "$results" hf-sample; then
        out=$("$venv/bin/python" tools/hf_prepare_bench.py check --vocab "$vocab" --corpus "$corpus" --sift "$bin" \
            --sample-out "$work/sample-$size.txt" --lines "$sample") || { echo "$out" >&2; exit 1; }
        "${report[@]}" check "$results" hf-sample --json "$out"
        echo "prepare-bench: HF tokenizers and sift tokenize agree on $sample sampled lines" >&2
    fi
fi
"${report[@]}" table "$results" | tee "$work/table-$size.md"
