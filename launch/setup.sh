#!/usr/bin/env bash
# Installs what sift needs on a fresh Debian 12 machine (OpenMPI, OpenBLAS, zlib and libzstd for compressed
# corpora, the zstd tool the tests compress with, the default corpus) and builds the release binary.
# Idempotent: packages already installed are not fetched again.
# Prints the path of the built `sift` binary on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
case "${1:-}" in -h|--help) script_help; exit 0 ;; "") ;; *) usage_error "unknown argument '$1'" ;; esac

apt_install libopenmpi-dev openmpi-bin libopenblas-dev pkg-config python3.11-doc iproute2 zlib1g-dev libzstd-dev zstd
echo "setup: building sift (release)" >&2
swift build -c release >&2
echo "$(swift build -c release --show-bin-path)/sift"
