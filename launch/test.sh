#!/usr/bin/env bash
# The test command: installs what is missing, builds release, and runs every test, including the
# multi-rank ones that launch ranks with mpirun.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(launch/setup.sh | tail -n 1)
export SIFT_BINARY="$bin"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
swift test -c release "$@"
