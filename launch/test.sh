#!/usr/bin/env bash
# The test command: installs what is missing, checks the shell scripts with shellcheck, builds release,
# and runs every test, including the multi-rank ones that launch ranks with mpirun. Ends with one line
# "N passed, N failed". Arguments go to `swift test` (e.g. --filter NAME).
#
# First the shell scripts: Debian's shellcheck (installed when missing) checks launch/*.sh,
# launch/slurm.sbatch, tools/*.sh and .ci/run with the committed .shellcheckrc; any finding fails the run
# before anything is built. A line whose code is right may carry a `disable=SCnnnn` directive with its reason.
# Then `swift format lint` checks the Swift code the same way (below).
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
case "${1:-}" in -h|--help) script_help; exit 0 ;; esac

command -v shellcheck >/dev/null || apt_install shellcheck \
    || { echo "error: shellcheck is not installed and apt-get could not install it" >&2; exit 1; }
scripts=(launch/*.sh launch/slurm.sbatch tools/*.sh .ci/run)
if ! shellcheck "${scripts[@]}"; then
    echo "error: shellcheck found the problems above in launch/ or tools/ (config .shellcheckrc); fix them" >&2
    exit 1
fi
echo "shellcheck: ${#scripts[@]} scripts, no findings" >&2

# Then the Swift sources: `swift format lint` (it ships with the toolchain) with the committed .swift-format
# (line length 140, one statement per line, and the few rules listed there); any finding fails the run.
# `swift format format -i -r Sources Tests Package.swift` rewrites the code the way the lint wants it.
swift_paths=(Package.swift Sources Tests)
if ! swift format lint --strict --configuration .swift-format -r "${swift_paths[@]}"; then
    echo "error: swift format lint found the problems above (config .swift-format); fix them, e.g. with" \
        "swift format format -i -r Sources Tests Package.swift" >&2
    exit 1
fi
echo "swift format lint: Sources, Tests and Package.swift, no findings" >&2

# The tests check this checkout's release build (never a pinned SIFT_BINARY).
unset SIFT_BINARY
sift_binary
# The reference safetensors implementation (small, from PyPI) lets the interop tests check our files
# against it. Debian's Python refuses `pip install` into the system (PEP 668), so it goes into a virtual
# environment under .build (python3-venv from Debian), which the tests find through $SIFT_PYTHON.
if python3 -c "import safetensors.numpy, numpy" 2>/dev/null; then
    export SIFT_PYTHON=python3
else
    venv=.build/reference-python
    if ! "$venv/bin/python3" -c "import safetensors.numpy, numpy" 2>/dev/null; then
        python3 -c "import ensurepip, venv" 2>/dev/null || apt_install python3-venv || true
        { python3 -m venv "$venv" && "$venv/bin/python3" -m pip install -q safetensors numpy; } >&2 \
            || echo "note: could not install safetensors/numpy into $venv; the safetensors cross-checks will be skipped" >&2
    fi
    export SIFT_PYTHON="$PWD/$venv/bin/python3"
fi
# SlurmTests bring up a single-node SLURM (launch/slurm_local.sh) from Debian's slurm-wlm and munge.
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    launch/slurm_local.sh install || echo "note: could not install slurm-wlm and munge; SlurmTests will say why" >&2
fi
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test -c release --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# XCTest's summary of the whole run: "Executed N tests, with [K tests skipped and] M failures ...".
summary=$(grep -E -A1 "Test Suite '(All tests|Selected tests)'" "$log" | grep -E "Executed [0-9]+ tests?" | tail -n 1 || true)
if [ -n "$summary" ]; then
    total=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$summary")
    # XCTest's "M failures" counts failed assertions, not tests: count the test cases that failed.
    failed=$(grep -cE "^Test Case '.*' failed \(" "$log" || true)
    skipped=$(grep -oE "[0-9]+ tests? skipped" <<<"$summary" | grep -oE "^[0-9]+" || echo 0)
    echo "$((total - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
exit "$status"
