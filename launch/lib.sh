# shellcheck shell=bash
# The helpers the scripts in launch/ share, each written once here. Sourced, never run:
#   . "$(dirname "$0")/lib.sh"        (or launch/lib.sh once the script has cd'ed to the checkout)
#
#   sift_binary                 sets $bin to the sift binary and exports SIFT_BINARY
#   apt_install PACKAGE...      installs the Debian packages that are missing
#   prepare_corpus DIR CORPUS FORMAT FRACTION   vocabulary and shards of a corpus, once
#   metrics_file / metrics_finished / metrics_finish / metrics_reopen / metrics_remove STEM
#                               a run's metrics log through its life (plain while written, then thinned and
#                               compressed for committing)
#   script_help / usage_error MESSAGE / need_value "$@"    argument parsing
#   cpu_name                    the CPU as the measurements name it (model, family/model, AVX2, AVX-512)
#   run_resumable / run_commit  a long 2-rank `sift train` run that survives interruptions, and its committed log
#   pin_binary OUT              one build per experiment folder (OUT/binary.txt)
# The helpers that can fail exit the script with one `error:` line.

# The checkout this file belongs to (absolute).
sift_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# SIFT_RANKS: the ranks of the experiment scripts' runs (run_resumable, stages.sh, per_sample.sh; default 2). Checked
# here, where every script starts, so that a bad value stops the script before its work instead of failing
# inside a run's train.log.
if ! [[ "${SIFT_RANKS:-2}" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: SIFT_RANKS must be a positive integer (got '${SIFT_RANKS}')" >&2
    exit 2
fi

# sift_binary: the sift binary every script runs, found one way: $SIFT_BINARY when set (a pinned build, e.g. a
# copy, so that rebuilding the checkout cannot change a running experiment), else the release build of this
# checkout, built (with what it needs installed) by launch/setup.sh. Sets $bin and exports SIFT_BINARY, so
# launch/mpirun.sh and the scripts this one starts use the same binary without building again.
sift_binary() {
    if [ -n "${SIFT_BINARY:-}" ]; then
        bin="$SIFT_BINARY"
    else
        bin=$("$sift_root/launch/setup.sh" | tail -n 1) || { echo "error: launch/setup.sh could not build sift" >&2; exit 1; }
    fi
    [ -x "$bin" ] || { echo "error: the sift binary $bin is not an executable file (SIFT_BINARY, or launch/setup.sh)" >&2; exit 2; }
    export SIFT_BINARY="$bin"
}

# apt_install PACKAGE...: installs (apt-get, through sudo unless root) those of the Debian packages that are not
# installed yet; packages already there are not fetched again.
apt_install() {
    local missing=() p sudo=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing ${missing[*]} (Debian's packages)" >&2
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
}

# prepare_corpus DIR CORPUS FORMAT FRACTION: the one corpus setup of every script (needs $bin: sift_binary).
# Writes DIR/vocab.txt (an 8,192-piece WordPiece vocabulary learned on CORPUS) and DIR/dataset (128-token
# shards; FORMAT auto, rst or text, as `sift prepare --format`; a share FRACTION of the documents held out for
# validation), each only when it is not there yet. sift's own output goes where the caller sends stdout.
prepare_corpus() {
    local dir="$1" corpus="$2" format="$3" fraction="$4"
    mkdir -p "$dir"
    if [ ! -f "$dir/vocab.txt" ]; then
        "$bin" vocab --corpus "$corpus" --size 8192 --out "$dir/vocab.txt" || return
    fi
    if [ ! -f "$dir/dataset/manifest.json" ]; then
        "$bin" prepare --corpus "$corpus" --vocab "$dir/vocab.txt" --format "$format" \
            --validation-fraction "$fraction" --seq-len 128 --out "$dir/dataset" || return
    fi
}

# A run's metrics log: STEM.jsonl while the run writes it; once it has finished, metrics_finish thins it to the
# rows the report tools read and compresses it (tools/thin_metrics.py: STEM.jsonl.gz, what tools/metrics_io.py
# reads), so that committed logs stay small.

# metrics_file STEM: the log's path: STEM.jsonl when present, else STEM.jsonl.gz when present, else STEM.jsonl.
metrics_file() {
    if [ ! -f "$1.jsonl" ] && [ -f "$1.jsonl.gz" ]; then echo "$1.jsonl.gz"; else echo "$1.jsonl"; fi
}

# metrics_finished STEM: true when the run whose log is STEM.jsonl[.gz] ended with its final evaluation.
metrics_finished() {
    if [ -f "$1.jsonl.gz" ] && zgrep -q '"final":true' "$1.jsonl.gz"; then return 0; fi
    [ -f "$1.jsonl" ] && grep -q '"final":true' "$1.jsonl"
}

# metrics_finish STEM: thins STEM.jsonl and replaces it by STEM.jsonl.gz (nothing when there is no STEM.jsonl).
metrics_finish() {
    [ -f "$1.jsonl" ] || return 0
    python3 "$sift_root/tools/thin_metrics.py" --gzip "$1.jsonl" \
        || { echo "error: could not thin and compress $1.jsonl" >&2; exit 1; }
}

# metrics_reopen STEM: a run that continues an earlier log (resumed after it was finished and compressed)
# appends to STEM.jsonl: decompresses STEM.jsonl.gz back into it first.
metrics_reopen() {
    if [ ! -f "$1.jsonl" ] && [ -f "$1.jsonl.gz" ]; then gzip -d "$1.jsonl.gz"; fi
}

# metrics_remove STEM: deletes a run's log in either form (a run starting afresh).
metrics_remove() { rm -f "$1.jsonl" "$1.jsonl.gz"; }

# script_help: prints the calling script's header (its comment lines after the first, up to the first line of
# code) without the leading "# ": every script's --help.
script_help() {
    sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
}

# usage_error MESSAGE: "error: MESSAGE (see SCRIPT --help)" on stderr, then exits with $usage_status (default 2).
usage_error() {
    echo "error: $* (see launch/$(basename "$0") --help)" >&2
    exit "${usage_status:-2}"
}

# need_value "$@": in an argument loop, fails with one error line when the flag in $1 has no value after it
# (otherwise `shift 2` would fail or the flag would take the next flag as its value).
need_value() {
    [ $# -ge 2 ] || usage_error "$1 needs a value"
}

# cpu_name: "AMD EPYC (family 25 model 1, AVX2, no AVX-512)" — the model name alone does not tell Zen 3 from
# Zen 4, and the kernels differ with AVX-512, so every measurement names the CPU this way.
cpu_name() {
    local f; f=$(grep -m1 '^flags' /proc/cpuinfo)
    printf '%s (family %s model %s, %s, %s)' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
        "$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')" "$(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')" \
        "$([[ $f == *avx2* ]] && echo AVX2 || echo 'no AVX2')" "$([[ $f == *avx512f* ]] && echo AVX-512 || echo 'no AVX-512')"
}

# run_resumable RUN LABEL TRAIN_ARGS...: a `sift train` run on SIFT_RANKS ranks (default 2; the results do not
# depend on it, so two runs can share a machine at 1 rank each) kept in folder RUN (its checkpoints,
# RUN/metrics.jsonl and RUN/train.log), continued bit-exactly from its newest checkpoint when there is one
# (a fresh start drops a stale metrics log) and skipped when its metrics already end with the final
# evaluation. LABEL names it in the progress lines. An interrupted run (exit 75: Ctrl-C, SIGTERM or a
# preemption signal, or the caller's $stopped set by its trap) exits the script with 75, a failed one with 1.
run_resumable() {
    local run="$1" label="$2" resume=() status
    shift 2
    mkdir -p "$run"
    metrics_finished "$run/metrics" && return 0
    if ls "$run"/step-*.ckpt >/dev/null 2>&1; then resume=(--resume); else rm -f "$run/metrics.jsonl"; fi
    echo "$label${resume:+ (resuming)}" >&2
    set +e
    SIFT_PROGRESS=plain "$sift_root/launch/mpirun.sh" -np "${SIFT_RANKS:-2}" -- train "$@" --checkpoint-dir "$run" \
        --metrics "$run/metrics.jsonl" "${resume[@]}" >> "$run/train.log" 2>&1
    status=$?
    set -e
    if [ "$status" -eq 75 ] || [ "${stopped:-0}" -eq 1 ]; then
        echo "$label: interrupted; run the same command to continue" >&2
        exit 75
    fi
    [ "$status" -eq 0 ] || { echo "error: $label failed (exit $status); see $run/train.log" >&2; exit 1; }
}

# run_commit RUN STEM: a finished run's metrics, thinned and compressed, as STEM.jsonl.gz (the rows the report
# tools read) and its log as STEM.log: what an experiment commits.
run_commit() {
    cp "$1/metrics.jsonl" "$2.jsonl.tmp" && mv "$2.jsonl.tmp" "$2.jsonl"
    metrics_finish "$2"
    cp "$1/train.log" "$2.log"
}

# pin_binary OUT: one build per experiment folder. The first call writes OUT/binary.txt (commit, the binary's
# sha256, the CPU); a later call with another binary is refused (exit 2) once a run in OUT/*/ has finished.
# A binary rebuilt from the same commit (on a fresh machine; a rebuild need not give the same bytes) is admitted
# by appending a line `rebuilt commit C sha256 S (why)` and its `cpu` line to OUT/binary.txt by hand.
pin_binary() {
    local sum
    sum=$(sha256sum "$bin" | cut -c1-16)
    if [ -f "$1/binary.txt" ] && ! grep -q "sha256 $sum" "$1/binary.txt" && ls "$1"/*/*.jsonl.gz >/dev/null 2>&1; then
        echo "error: $1 was measured with another binary ($(head -n 1 "$1/binary.txt")); pin it with SIFT_BINARY" >&2
        exit 2
    fi
    [ -f "$1/binary.txt" ] || printf 'commit %s sha256 %s\ncpu %s\n' "$(git -C "$sift_root" rev-parse --short HEAD)" "$sum" "$(cpu_name)" > "$1/binary.txt"
}

# stage_warm_start STAGE: the exported model of a stage (CORPUS-MODEL-STEP, e.g. gcide-mini-6000) of
# launch/stages.sh's plain run, made by `launch/stages.sh --warm-starts-only` when missing (a replay of the
# plain run, checked against its committed log); prints its directory. Its dataset: stage_dataset.
stage_warm_start() {
    local corpus model step warm
    IFS=- read -r corpus model step <<<"$1"
    warm="${SIFT_WORK:-work-data}/stages/$corpus-$model/stage-$step"
    if [ ! -f "$warm/model.safetensors" ]; then
        echo "making the warm start $1 (launch/stages.sh --warm-starts-only)" >&2
        "$sift_root/launch/stages.sh" --warm-starts-only --models "$model" --corpora "$corpus" --stages "$step" --only "$1" >&2 \
            || { echo "error: launch/stages.sh could not make the warm start $1" >&2; exit 1; }
    fi
    echo "$warm"
}

# stage_dataset STAGE: the dataset a stage (CORPUS-MODEL-STEP) of launch/stages.sh was trained on.
stage_dataset() {
    echo "${SIFT_WORK:-work-data}/stages/${1%%-*}/dataset"
}
