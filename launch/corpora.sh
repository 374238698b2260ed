#!/usr/bin/env bash
# The experiments' three corpora, each with its own 8,192-piece vocabulary and 128-token shards:
#   python   — Python's documentation sources, reStructuredText markup removed (10% of documents held out)
#   gcide    — the GCIDE dictionary (Debian's dict-gcide), prose (3% held out)
#   licenses — every /usr/share/doc/*/copyright file of the machine, byte-identical files kept once:
#              license texts and templated copyright records that recur with small changes (12% held out)
#
#   launch/corpora.sh DIR [NAME…]     (default: all three)
# Writes DIR/NAME/vocab.txt and DIR/NAME/dataset/ once each (idempotent); installs dict-gcide if missing.
# Uses $SIFT_BINARY when set, else builds with launch/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: launch/corpora.sh DIR [python|gcide|licenses]…" >&2; exit 2; }
work="$1"; shift
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(python gcide licenses)
for name in "${names[@]}"; do
    case "$name" in python|gcide|licenses) ;; *) echo "error: unknown corpus '$name' (expected python, gcide or licenses)" >&2; exit 2 ;; esac
done
if [ -n "${SIFT_BINARY:-}" ]; then bin="$SIFT_BINARY"; else bin=$(launch/setup.sh | tail -n 1); fi
mkdir -p "$work"

prepare() {  # name corpus format validation-fraction
    local d="$work/$1"
    mkdir -p "$d"
    [ -f "$d/vocab.txt" ] || "$bin" vocab --corpus "$2" --size 8192 --out "$d/vocab.txt" >&2
    [ -f "$d/dataset/manifest.json" ] || "$bin" prepare --corpus "$2" --vocab "$d/vocab.txt" --format "$3" \
        --validation-fraction "$4" --seq-len 128 --out "$d/dataset" >&2
}
for name in "${names[@]}"; do
    case "$name" in
        python) prepare python /usr/share/doc/python3.11/html/_sources rst 0.1 ;;
        gcide)
            if [ ! -f /usr/share/dictd/gcide.dict.dz ]; then
                SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
                $SUDO apt-get install -y -qq dict-gcide >&2
            fi
            if [ ! -f "$work/gcide.txt" ]; then
                zcat /usr/share/dictd/gcide.dict.dz > "$work/gcide.txt.tmp" && mv "$work/gcide.txt.tmp" "$work/gcide.txt"
            fi
            prepare gcide "$work/gcide.txt" text 0.03 ;;
        licenses)
            if [ ! -f "$work/licenses.txt" ]; then
                python3 - "$work/licenses.txt.tmp" <<'PY'
import glob, hashlib, sys
seen, out = set(), open(sys.argv[1], "wb")
for path in sorted(glob.glob("/usr/share/doc/*/copyright")):
    data = open(path, "rb").read()
    digest = hashlib.sha256(data).digest()
    if digest in seen: continue
    seen.add(digest); out.write(data.rstrip(b"\n") + b"\n\n")
PY
                mv "$work/licenses.txt.tmp" "$work/licenses.txt"
            fi
            prepare licenses "$work/licenses.txt" text 0.12 ;;
    esac
done
