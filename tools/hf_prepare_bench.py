#!/usr/bin/env python3
"""HF `tokenizers` beside `sift prepare` in launch/prepare_bench.sh: the same corpus, the same vocab.txt.
A by-hand cross-check (needs the `tokenizers` package, which launch/prepare_bench.sh installs in a venv of
its own; never part of CI).

  hf_prepare_bench.py bench --vocab V --corpus DIR [--cased] [--batch-lines 10000] [--json-out FILE]
      BertWordPieceTokenizer(V, lowercase = not cased) encodes every line of the corpus's files
      (`encode_batch`, no special tokens, on all the threads Rayon starts by default), read in batches of
      --batch-lines lines so that memory stays bounded. Prints one JSON object (and writes it to
      --json-out): bytes and lines read, tokens, the encoding and the whole run's seconds, the threads
      and the tokenizers version.
  hf_prepare_bench.py check --vocab V --corpus DIR --sift BIN --sample-out FILE [--cased] [--lines 2000]
      Takes --lines non-blank lines spread evenly over the corpus by byte offset, writes them to FILE,
      and compares HF's ids with `BIN tokenize` line by line. Prints one JSON object (lines compared,
      mismatches, the first mismatch); exits 1 with an `error:` line when any line differs.

The corpus is read as `sift prepare --format text` reads it: the regular files under DIR, recursively,
sorted by the bytes of their paths, hidden names left out; lines split at "\\n", invalid UTF-8 replaced
with U+FFFD, blank lines (document ends) carrying no tokens.
"""
import argparse, json, os, subprocess, sys, time


def corpus_files(root):
    """The corpus's files in sift's order (regular files, hidden names skipped, sorted by path bytes)."""
    if os.path.isfile(root):
        return [root]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if not name.startswith(".") and os.path.isfile(path):
                found.append(path)
    return sorted(found, key=os.fsencode)


def tokenizer(vocab, cased):
    from tokenizers import BertWordPieceTokenizer

    return BertWordPieceTokenizer(vocab, lowercase=not cased)


def bench(args):
    import tokenizers

    start = time.perf_counter()
    tok = tokenizer(args.vocab, args.cased)
    read = lines = tokens = 0
    encoding = 0.0
    batch = []

    def flush():
        nonlocal tokens, encoding
        t = time.perf_counter()
        for e in tok.encode_batch(batch, add_special_tokens=False):
            tokens += len(e.ids)
        encoding += time.perf_counter() - t
        batch.clear()

    for path in corpus_files(args.corpus):
        with open(path, "rb") as fh:
            for raw in fh:
                read += len(raw)
                lines += 1
                text = raw.decode("utf-8", "replace").rstrip("\n")
                if text.strip(" \t\r\v\f"):
                    batch.append(text)
                    if len(batch) >= args.batch_lines:
                        flush()
    if batch:
        flush()
    result = {"bytes": read, "lines": lines, "tokens": tokens, "encode_seconds": round(encoding, 3),
              "seconds": round(time.perf_counter() - start, 3),
              "threads": int(os.environ.get("RAYON_NUM_THREADS") or os.cpu_count()),
              "tokenizers": tokenizers.__version__, "batch_lines": args.batch_lines}
    print(json.dumps(result))
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(result, fh)


def sample_lines(files, count):
    """`count` non-blank lines (fewer only at the corpus's very end): the first whole line at or after each of
    `count` evenly spaced offsets."""
    sizes = [os.path.getsize(f) for f in files]
    total = sum(sizes)
    picked = []
    for k in range(count):
        offset = int((k + 0.5) * total / count)
        i = 0
        while i < len(files) - 1 and offset >= sizes[i]:
            offset -= sizes[i]
            i += 1
        line = None
        while line is None and i < len(files):  # a line, or the first of the next file when none follows
            with open(files[i], "rb") as fh:
                if offset > 0:
                    fh.seek(offset - 1)
                    if fh.read(1) != b"\n":
                        fh.readline()  # the rest of the line the offset fell in
                for raw in fh:
                    if raw.strip(b" \t\r\v\f\n"):
                        line = raw.rstrip(b"\n")
                        break
            i, offset = i + 1, 0
        if line is not None:
            picked.append(line)
    return picked


def check(args):
    picked = sample_lines(corpus_files(args.corpus), args.lines)
    with open(args.sample_out, "wb") as fh:
        fh.write(b"".join(line + b"\n" for line in picked))
    tok = tokenizer(args.vocab, args.cased)
    hf = [e.ids for e in tok.encode_batch([line.decode("utf-8", "replace") for line in picked], add_special_tokens=False)]
    command = [args.sift, "tokenize", "--vocab", args.vocab] + (["--cased"] if args.cased else []) + [args.sample_out]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed (exit {run.returncode}): {run.stderr.strip()}")
    sift = [json.loads(line) for line in run.stdout.splitlines()]
    if len(sift) != len(hf):
        sys.exit(f"error: sift tokenize printed {len(sift)} lines for the {len(hf)} of {args.sample_out}")
    differing = [i for i in range(len(hf)) if hf[i] != sift[i]]
    first = None
    if differing:
        i = differing[0]
        first = {"line": i + 1, "text": picked[i].decode("utf-8", "replace")[:200], "hf": hf[i][:40], "sift": sift[i][:40]}
    json.dump({"lines": len(hf), "tokens": sum(len(ids) for ids in hf), "mismatches": len(differing),
               "first_mismatch": first, "sample": args.sample_out}, sys.stdout)
    print()
    if differing:
        print(f"error: HF tokenizers and sift tokenize differ on {len(differing)} of {len(hf)} sampled lines "
              f"(first: line {first['line']} of {args.sample_out})", file=sys.stderr)
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    for name in ("bench", "check"):
        p = sub.add_parser(name)
        p.add_argument("--vocab", required=True, help="BERT vocab.txt")
        p.add_argument("--corpus", required=True, help="corpus file or directory")
        p.add_argument("--cased", action="store_true", help="keep case and accents (as sift --cased)")
    sub.choices["bench"].add_argument("--batch-lines", type=int, default=10000, help="lines per encode_batch (default 10000)")
    sub.choices["bench"].add_argument("--json-out", help="also write the result to this file")
    sub.choices["check"].add_argument("--sift", required=True, help="the sift binary")
    sub.choices["check"].add_argument("--sample-out", required=True, help="where the sampled lines are written")
    sub.choices["check"].add_argument("--lines", type=int, default=2000, help="lines to compare (default 2000)")
    args = ap.parse_args()
    for path in (args.vocab, args.corpus):
        if not os.path.exists(path):
            sys.exit(f"error: {path} does not exist")
    bench(args) if args.mode == "bench" else check(args)


if __name__ == "__main__":
    main()
