#!/usr/bin/env bash
# The experiments' three corpora, each with its own 8,192-piece vocabulary and 128-token shards:
#   python   — Python's documentation sources, reStructuredText markup removed (10% of documents held out)
#   gcide    — the GCIDE dictionary (Debian's dict-gcide), prose (3% held out)
#   licenses — every /usr/share/doc/*/copyright file of the machine, byte-identical files kept once:
#              license texts and templated copyright records that recur with small changes (12% held out)
#              The machine's installed packages make this corpus: it differs between machines whose
#              package sets differ (9,672 training sequences for the committed stage study, 10,367 on a
#              machine of 2026-12-08), so its committed runs can be replayed only where it is the same.
#
#   launch/corpora.sh DIR [NAME…]     (default: all three)
# Writes DIR/NAME/vocab.txt and DIR/NAME/dataset/ once each (idempotent); installs dict-gcide if missing.
# Uses $SIFT_BINARY when set, else builds with launch/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. launch/lib.sh
case "${1:-}" in -h|--help) script_help; exit 0 ;; "") usage_error "expected DIR [python|gcide|licenses]…" ;; esac
work="$1"; shift
names=("$@"); [ ${#names[@]} -gt 0 ] || names=(python gcide licenses)
for name in "${names[@]}"; do
    case "$name" in python|gcide|licenses) ;; *) usage_error "unknown corpus '$name' (expected python, gcide or licenses)" ;; esac
done
sift_binary
mkdir -p "$work"

for name in "${names[@]}"; do
    case "$name" in
        python) prepare_corpus "$work/python" /usr/share/doc/python3.11/html/_sources rst 0.1 >&2 ;;
        gcide)
            [ -f /usr/share/dictd/gcide.dict.dz ] || apt_install dict-gcide
            if [ ! -f "$work/gcide.txt" ]; then
                zcat /usr/share/dictd/gcide.dict.dz > "$work/gcide.txt.tmp" && mv "$work/gcide.txt.tmp" "$work/gcide.txt"
            fi
            prepare_corpus "$work/gcide" "$work/gcide.txt" text 0.03 >&2 ;;
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
            prepare_corpus "$work/licenses" "$work/licenses.txt" text 0.12 >&2 ;;
    esac
done
