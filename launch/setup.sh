#!/usr/bin/env bash
# Installs what sift needs on a fresh Debian 12 machine (OpenMPI, OpenBLAS, the default corpus) and
# builds the release binary. Idempotent: packages already installed are not fetched again.
# Prints the path of the built `sift` binary on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libopenmpi-dev openmpi-bin libopenblas-dev pkg-config python3.11-doc iproute2)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

echo "setup: building sift (release)" >&2
swift build -c release >&2
echo "$(swift build -c release --show-bin-path)/sift"
