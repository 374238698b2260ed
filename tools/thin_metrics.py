#!/usr/bin/env python3
"""The one thinner of `sift train --metrics` logs, so that committed logs stay small (docs/ under 5 MB).

    tools/thin_metrics.py [--every N] [--gzip] LOG...

Keeps, in their order, every row the report tools read:
  - evaluation rows (val_loss) and the final row ("final": true);
  - rows with a selection-fidelity measurement (fidelity_spearman);
  - the first and the last step row (a run's totals: elapsed, samples scored and backpropagated), and the
    first two step rows that scored samples (tools/paper_report.py finds when selection started from them);
  - every N-th step (default 25), and any row without a step;
and drops the other per-step rows. Thinning a thinned log keeps it as it is. A torn or unparseable line is
kept (never silently dropped). LOG may be plain (.jsonl) or gzip-compressed (.jsonl.gz; read through
tools/metrics_io.py). --gzip writes STEM.jsonl.gz (`gzip -9n`: no name, no time stamp, so the same rows give
the same bytes) and removes the plain STEM.jsonl; without it a log is rewritten in its own form.
"""
import argparse
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_io import read_lines, stem  # noqa: E402  (the one reader of metrics logs, plain or gzipped)


def kept(lines, every):
    """The lines of a metrics log that thinning keeps (see the module comment)."""
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            parsed.append(None)
    steps = [i for i, r in enumerate(parsed) if r is not None and "times" in r]
    scored = [i for i in steps if (parsed[i].get("samples_scored") or 0) > 0]
    ends = ({steps[0], steps[-1]} if steps else set()) | set(scored[:2])
    out = []
    for i, (line, r) in enumerate(zip(lines, parsed)):
        if (r is None or i in ends or "val_loss" in r or r.get("final") or r.get("fidelity_spearman") is not None
                or not isinstance(r.get("step"), int) or r["step"] % every == 0):
            out.append(line)
    return out


def write(path, lines, compress):
    """Writes lines to path atomically (via path.tmp), gzip -9n when compress."""
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        if compress:
            with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=fh, mtime=0) as gz:
                gz.write(data)
        else:
            fh.write(data)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="Thin sift metrics logs to what the report tools read.")
    ap.add_argument("--every", type=int, default=25, help="keep every N-th step besides the rows always kept (default 25)")
    ap.add_argument("--gzip", action="store_true", help="write STEM.jsonl.gz and remove the plain STEM.jsonl")
    ap.add_argument("logs", nargs="+", metavar="LOG", help="a metrics log, .jsonl or .jsonl.gz")
    a = ap.parse_args()
    if a.every < 1:
        ap.error("--every must be at least 1")
    for path in a.logs:
        if not os.path.isfile(path):
            sys.exit(f"error: {path}: no such metrics log")
        lines = read_lines(path)
        keep = kept(lines, a.every)
        compress = a.gzip or path.endswith(".gz")
        target = os.path.join(os.path.dirname(path), stem(path) + ".jsonl.gz") if compress else path
        write(target, keep, compress)
        if target != path:
            os.remove(path)
        print(f"thin_metrics: {target}: kept {len(keep)} of {len(lines)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
