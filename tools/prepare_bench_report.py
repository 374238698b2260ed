#!/usr/bin/env python3
"""The results file of launch/prepare_bench.sh (issue 40 item 6): written one measurement at a time, so
a rerun skips what is finished, and turned into the Markdown table of docs/BENCHMARKS.md.

  prepare_bench_report.py init RESULTS --size-mb N --cpu CPU --corpus-json FILE --binary BIN
      Starts RESULTS, or keeps it when it was measured on the same corpus (bytes, files, distinct text)
      and CPU; one from another corpus or CPU is moved aside to RESULTS.stale (its figures no longer
      apply). Warns when measurements in it were made with a sift binary other than BIN.
  prepare_bench_report.py corpus CORPUS_JSON
      One line saying what the corpus is and how often its text repeats.
  prepare_bench_report.py has RESULTS NAME
      Exit status 0 when measurement or check NAME is in RESULTS, else 1.
  prepare_bench_report.py forget RESULTS NAME...
      Removes measurements and checks NAME… (measured with a vocabulary that is gone).
  prepare_bench_report.py record RESULTS NAME --label L --kind prepare|hf|vocab --threads T --ranks R
          --command C --time FILE [--rank-time FILE]... --load-start "1 5 15" --load-end "1 5 15"
          --input-bytes B [--manifest M] [--extra JSON_FILE] [--log FILE] [--binary BIN]
      Adds a measurement: wall, CPU and peak RSS from `/usr/bin/time -v` output (--rank-time: one file per
      MPI rank; then the peak is the largest rank's, the CPU their sum, and --time gives the wall only),
      the load averages, the token count and sha256 of the manifest, the last lines of the log. The
      checks that compared what an earlier measurement of its kind wrote are dropped (to be redone).
  prepare_bench_report.py check RESULTS NAME --json TEXT
      Adds a check's outcome (a JSON object).
  prepare_bench_report.py same RESULTS NAME...
      Exit status 0 when the measurements NAME… wrote the same manifest (sha256), else 1 with an error line.
  prepare_bench_report.py table RESULTS [--nodes 32] [--cores 32] [--link-gbit 10]
      The Markdown table (MB/s, tokens/s, peak RSS, wall, speed-up), the goals' verdicts and the
      projection to NODES × CORES from the measured per-core rate and scaling, with what bounds it.

MB is 10^6 bytes, MiB 2^20. Standard library only.
"""
import argparse, hashlib, json, os, sys, time

BUSY_LOAD = 0.5  # a 1-minute load average above this at a measurement's start: someone else was working
GOAL_SPEEDUP = 1.8
ROWS = [  # (name, what the table calls it); the names launch/prepare_bench.sh records
    ("prepare-1", "sift prepare, 1 thread"),
    ("prepare-2", "sift prepare, 2 threads"),
    ("prepare-mpi2", "sift prepare, 2 ranks × 1 thread (mpirun)"),
    ("hf", "HF tokenizers encode_batch"),
    ("vocab-1", "sift vocab, 1 thread"),
    ("vocab-2", "sift vocab, 2 threads"),
]
# The checks a new measurement of a kind makes stale (they compared what it wrote before).
STALE_CHECKS = {"prepare": ("datasets-identical",), "vocab": ("vocab-identical",)}
BASELINE = {"prepare-2": "prepare-1", "prepare-mpi2": "prepare-1", "vocab-2": "vocab-1", "prepare-1": "prepare-1",
            "vocab-1": "vocab-1"}


def load(path):
    with open(path) as fh:
        return json.load(fh)


def save(path, results):
    with open(path + ".tmp", "w") as fh:
        json.dump(results, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    os.replace(path + ".tmp", path)


def parse_time(path):
    """Wall seconds, user and system CPU seconds and peak RSS (KiB) from `/usr/bin/time -v` output."""
    found = {}
    with open(path) as fh:
        for line in fh:
            key, _, value = line.strip().rpartition(": ")
            found[key] = value
    try:
        clock = [float(x) for x in found["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")]
        wall = 0.0
        for x in clock:
            wall = wall * 60 + x
        return {"wall_s": round(wall, 2), "user_s": float(found["User time (seconds)"]),
                "sys_s": float(found["System time (seconds)"]),
                "peak_rss_kib": int(found["Maximum resident set size (kbytes)"])}
    except (KeyError, ValueError):
        sys.exit(f"error: {path} is not the output of /usr/bin/time -v")


def loads(text):
    return [float(x) for x in text.split()[:3]]


def cmd_init(args):
    corpus = load(args.corpus_json)
    with open(args.binary, "rb") as fh:
        binary = hashlib.sha256(fh.read()).hexdigest()[:16]
    if os.path.exists(args.results):
        old = load(args.results)
        kept = {k: old.get("corpus", {}).get(k) for k in ("bytes", "distinct_bytes", "files")}
        if kept == {k: corpus.get(k) for k in kept} and old.get("cpu") == args.cpu:
            others = sorted({m["binary_sha256"] for m in old["measurements"].values() if m.get("binary_sha256")} - {binary})
            if others:
                print(f"warning: {args.results} holds measurements of another build of sift (sha256 {', '.join(others)}; "
                      f"this one is {binary}): forget them to measure this build alone", file=sys.stderr)
            return
        os.replace(args.results, args.results + ".stale")
        print(f"note: {args.results} was measured on another corpus or CPU; moved to {args.results}.stale, "
              "measuring afresh", file=sys.stderr)
    save(args.results, {"size_mb": args.size_mb, "cpu": args.cpu, "corpus": corpus, "measurements": {}, "checks": {}})


def cmd_corpus(args):
    print(corpus_line(load(args.corpus_json)))


def cmd_has(args):
    r = load(args.results)
    sys.exit(0 if args.name in r["measurements"] or args.name in r["checks"] else 1)


def cmd_forget(args):
    r = load(args.results)
    for name in args.names:
        r["measurements"].pop(name, None)
        r["checks"].pop(name, None)
    save(args.results, r)


def cmd_record(args):
    r = load(args.results)
    m = {"label": args.label, "kind": args.kind, "threads": args.threads, "ranks": args.ranks,
         "command": args.command}
    if args.binary:
        with open(args.binary, "rb") as fh:
            m["binary_sha256"] = hashlib.sha256(fh.read()).hexdigest()[:16]
    outer = parse_time(args.time)
    if args.rank_time:
        ranks = [parse_time(f) for f in args.rank_time]
        m.update(wall_s=outer["wall_s"], user_s=round(sum(x["user_s"] for x in ranks), 2),
                 sys_s=round(sum(x["sys_s"] for x in ranks), 2),
                 peak_rss_kib=max(x["peak_rss_kib"] for x in ranks),
                 rank_peak_rss_kib=[x["peak_rss_kib"] for x in ranks], rank_wall_s=[x["wall_s"] for x in ranks])
    else:
        m.update(outer)
    m["input_bytes"] = args.input_bytes
    m["load_start"], m["load_end"] = loads(args.load_start), loads(args.load_end)
    m["busy"] = m["load_start"][0] > BUSY_LOAD
    if args.manifest:
        with open(args.manifest, "rb") as fh:
            raw = fh.read()
        manifest = json.loads(raw)
        m["manifest_sha256"] = hashlib.sha256(raw).hexdigest()
        m["tokens"] = manifest["tokens"]
        sequences = manifest["trainSequences"] + manifest["validationSequences"]
        m["shard_bytes"] = sequences * manifest["seqLen"] * (2 if manifest["tokenDtype"] == "uint16" else 4)
        m["seq_len"] = manifest["seqLen"]
        if manifest["corpusBytes"] != args.input_bytes:
            print(f"warning: the manifest counts {manifest['corpusBytes']} corpus bytes, the corpus has "
                  f"{args.input_bytes}", file=sys.stderr)
    if args.extra:
        m.update(load(args.extra))
    if args.log:
        with open(args.log, errors="replace") as fh:
            tail = [line.rstrip("\n") for line in fh if line.strip()][-2:]
        m["summary"] = tail
    m["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    r["measurements"][args.name] = m
    for check in STALE_CHECKS.get(args.kind, ()):
        r["checks"].pop(check, None)
    save(args.results, r)
    line = f"{args.label}: {rate(m):.2f} MB/s"
    if m.get("tokens"):
        line += f", {m['tokens'] / m['wall_s'] / 1e6:.2f} M tokens/s"
    line += f", peak RSS {m['peak_rss_kib'] / 1024:.1f} MiB, wall {m['wall_s']:.1f} s, CPU {m['user_s'] + m['sys_s']:.1f} s"
    if m["busy"]:
        line += f" (load average {m['load_start'][0]:.2f} at start: the machine was busy)"
    print(line, file=sys.stderr)


def cmd_check(args):
    r = load(args.results)
    r["checks"][args.name] = json.loads(args.json)
    save(args.results, r)


def cmd_same(args):
    r = load(args.results)["measurements"]
    sums = {n: r[n].get("manifest_sha256") for n in args.names if n in r}
    if len(set(sums.values())) > 1 or None in sums.values():
        listed = ", ".join(f"{n} {s and s[:16]}" for n, s in sums.items())
        sys.exit(f"error: the datasets differ: manifest sha256 {listed}")


def rate(m):
    return m["input_bytes"] / 1e6 / m["wall_s"]


def cpu_s(m):
    return m["user_s"] + m["sys_s"]


def speedup(ms, name):
    base = ms.get(BASELINE.get(name, ""))
    return rate(ms[name]) / rate(base) if base and name in ms else None


def verdict(value, goal, what):
    if value is None:
        return f"{what}: not measured yet"
    return f"{what}: {'**met**' if value >= goal else '**not met**'} ({value:.2f}×)"


def corpus_line(corpus):
    """What the corpus is, and how often its text repeats (launch/prepare_bench.sh's corpus-N.json)."""
    size, distinct = corpus["bytes"] / 1e6, corpus["distinct_bytes"] / 1e6
    line = f"{size:,.1f} MB in {corpus['files']} files from {corpus['sources']}"
    if size > distinct:
        return (line + f": {distinct:,.1f} MB of distinct text repeated {size / distinct:.1f} times, a throughput "
                "test, not a corpus of that many distinct words")
    return line + f": the first {size:,.1f} MB of their {distinct:,.1f} MB, not repeated"


def cmd_table(args):
    r = load(args.results)
    ms, checks, corpus = r["measurements"], r["checks"], r["corpus"]
    out = [f"Corpus: {corpus_line(corpus)}. CPU: {r['cpu']}.", "",
           "| run | MB/s | tokens/s | peak RSS | wall | CPU | speed-up vs 1 thread | load at start |",
           "|---|---|---|---|---|---|---|---|"]
    for name, label in ROWS:
        m = ms.get(name)
        if not m:
            out.append(f"| {label} | not yet measured | | | | | | |")
            continue
        if name == "hf":
            label += f" ({m.get('threads')} threads)"
        tokens = f"{m['tokens'] / m['wall_s'] / 1e6:.2f} M" if m.get("tokens") else "—"
        rss = f"{m['peak_rss_kib'] / 1024:.1f} MiB"
        if m.get("rank_peak_rss_kib"):
            rss += " (ranks " + ", ".join(f"{x / 1024:.1f}" for x in m["rank_peak_rss_kib"]) + ")"
        s = speedup(ms, name)
        busy = " (busy)" if m["busy"] else ""
        out.append(f"| {label} | {rate(m):.2f} | {tokens} | {rss} | {m['wall_s']:.1f} s | {cpu_s(m):.1f} s | "
                   f"{'—' if s is None else f'{s:.2f}×'} | {m['load_start'][0]:.2f}{busy} |")
    out += ["", "Goals (issue 40):", ""]
    out.append("- " + verdict(speedup(ms, "prepare-2"), GOAL_SPEEDUP, f"≥ {GOAL_SPEEDUP}× the 1-thread rate at 2 threads"))
    out.append("- " + verdict(speedup(ms, "prepare-mpi2"), GOAL_SPEEDUP, f"≥ {GOAL_SPEEDUP}× from 1 to 2 MPI ranks"))
    if "prepare-1" in ms and "hf" in ms:
        one, hf = ms["prepare-1"], ms["hf"]
        per_core = rate(hf) / hf["threads"]
        ratio = rate(one) / per_core
        out.append(f"- ahead of HF tokenizers per core: {'**met**' if ratio > 1 else '**not met**'} "
                   f"(sift {rate(one):.2f} MB/s on 1 thread; HF {rate(hf):.2f} MB/s on {hf['threads']} threads = "
                   f"{per_core:.2f} MB/s per thread: {ratio:.2f}×; per CPU-second {one['input_bytes'] / 1e6 / cpu_s(one):.2f} "
                   f"against {hf['input_bytes'] / 1e6 / cpu_s(hf):.2f} MB)")
    else:
        out.append("- ahead of HF tokenizers per core: not measured yet")
    out += ["", "Checks:", ""]
    same = checks.get("datasets-identical")
    out.append("- the datasets at 1 thread, 2 threads and 2 ranks are identical: "
               + ("yes (the same manifest, sha256 " + same["manifest_sha256"][:16] + "…, and the same shards)"
                  if same else "not checked yet"))
    hf = checks.get("hf-sample")
    out.append("- token ids of HF tokenizers and `sift tokenize`: "
               + (f"identical on all {hf['lines']:,} sampled lines" if hf and hf["mismatches"] == 0
                  else f"differ on {hf['mismatches']} of {hf['lines']} lines" if hf else "not checked yet"))
    if "hf" in ms and ms.get("prepare-1", {}).get("tokens"):
        a, b = ms["hf"]["tokens"], ms["prepare-1"]["tokens"]
        out.append(f"- tokens over the whole corpus: HF {a:,}, sift {b:,}" + (" (equal)" if a == b else f" ({a - b:+,})"))
    vocab = checks.get("vocab-identical")
    if vocab:
        out.append(f"- vocab.txt at 1 and 2 threads: {'identical' if vocab['same'] else 'DIFFERENT'}; {vocab.get('counts', '')}")
    busy = [label for name, label in ROWS if ms.get(name, {}).get("busy")]
    if busy:
        out.append(f"- measured while the machine was busy (1-minute load average above {BUSY_LOAD} at the start): "
                   + "; ".join(busy))
    out += ["", *projection(ms, args)]
    print("\n".join(out))


def projection(ms, args):
    """The compute rate of NODES × CORES from the 1-thread rate and the measured scaling, and the rates of
    what rank 0 and the file system must sustain at it (DatasetPreparer: rank 0 writes every token)."""
    need = ("prepare-1", "prepare-2", "prepare-mpi2")
    if not all(n in ms for n in need):
        return [f"Projection to {args.nodes} nodes × {args.cores} cores: not yet measured."]
    one = ms["prepare-1"]
    r1 = rate(one)
    e_threads, e_ranks = speedup(ms, "prepare-2") / 2, speedup(ms, "prepare-mpi2") / 2
    workers = args.nodes * args.cores
    compute = r1 * workers * e_threads * e_ranks
    tokens_per_mb = one["tokens"] / (one["input_bytes"] / 1e6)
    shard_per_token = one["shard_bytes"] / one["tokens"]
    remote = 1 - 1 / args.nodes
    link = args.link_gbit * 1e9 / 8
    link_cap = link / (tokens_per_mb * 4 * remote)
    lines = [
        f"Projection to {args.nodes} nodes × {args.cores} cores ({workers} workers; `mpirun` with one rank per node "
        f"and `--threads {args.cores}`): {r1:.2f} MB/s per core × {workers} × {e_threads:.2f} (thread efficiency at 2, "
        f"measured) × {e_ranks:.2f} (rank efficiency at 2, measured) = **{compute:,.0f} MB/s** "
        f"({compute * tokens_per_mb / 1e6:,.0f} M tokens/s; 1 TB in {1e6 / compute / 60:,.0f} min), "
        "if the efficiency measured at 2 held at 32 and nothing else bound it. What would:",
        "",
        f"- **Rank 0 receives and writes every token.** The other ranks send their token ids to rank 0 as 4-byte "
        f"integers ({tokens_per_mb * 4 / 1e6:.2f} MB per MB of text), and rank 0 alone puts every chunk in order and "
        f"writes the shards ({shard_per_token:.2f} bytes per token with [CLS], [SEP] and padding). At {compute:,.0f} MB/s "
        f"that is {compute * tokens_per_mb * 4 * remote / 1e9:,.2f} GB/s into rank 0's node and "
        f"{compute * tokens_per_mb * shard_per_token / 1e9:,.2f} GB/s onto its disk; a {args.link_gbit:g} Gb/s link "
        f"caps the job at {link_cap:,.0f} MB/s of text. The in-order writer is one thread of rank 0. Ranks ask "
        "rank 0 for chunks as their threads free up (about 1 MiB at a time), so a slow rank takes less, but a "
        "rank's send completes only when rank 0 receives it: no rank runs more than about a chunk ahead of the "
        "writer, whose pace bounds the job.",
        f"- **Reading the input.** Every rank reads its chunks itself, at the same paths: the shared file system "
        f"must deliver {compute:,.0f} MB/s to {args.nodes} nodes together.",
        f"- **Units of work.** {workers} workers need {workers} chunks at a time: plain text and JSON Lines are cut "
        f"into 4 MiB chunks (a corpus of at least {workers * 4 / 1024:.0f} GiB keeps them busy), a .gz or .zst file "
        f"is one chunk (at least {workers} compressed files).",
    ]
    bound = min(compute, link_cap)
    lines += ["", f"Bound: {bound:,.0f} MB/s ({'compute' if bound == compute else f'the {args.link_gbit:g} Gb/s link into rank 0'}). "
              "Anchor: Megatron-LM's MPI preprocessing did 1 TiB in about 1 h on 32 nodes (≈ 305 MB/s)."]
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("init")
    p.add_argument("results")
    p.add_argument("--size-mb", type=int, required=True)
    p.add_argument("--cpu", required=True)
    p.add_argument("--corpus-json", required=True)
    p.add_argument("--binary", required=True)
    p = sub.add_parser("corpus")
    p.add_argument("corpus_json")
    p = sub.add_parser("has")
    p.add_argument("results")
    p.add_argument("name")
    p = sub.add_parser("record")
    p.add_argument("results")
    p.add_argument("name")
    for flag in ("--label", "--kind", "--command", "--time", "--load-start", "--load-end"):
        p.add_argument(flag, required=True)
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--ranks", type=int, required=True)
    p.add_argument("--input-bytes", type=int, required=True)
    p.add_argument("--rank-time", action="append", default=[])
    p.add_argument("--manifest")
    p.add_argument("--extra")
    p.add_argument("--log")
    p.add_argument("--binary", help="the sift binary measured (its sha256 is recorded)")
    p = sub.add_parser("check")
    p.add_argument("results")
    p.add_argument("name")
    p.add_argument("--json", required=True)
    p = sub.add_parser("forget")
    p.add_argument("results")
    p.add_argument("names", nargs="+")
    p = sub.add_parser("same")
    p.add_argument("results")
    p.add_argument("names", nargs="+")
    p = sub.add_parser("table")
    p.add_argument("results")
    p.add_argument("--nodes", type=int, default=32)
    p.add_argument("--cores", type=int, default=32)
    p.add_argument("--link-gbit", type=float, default=10, help="rank 0's network link, Gb/s (default 10)")
    args = ap.parse_args()
    if args.mode not in ("init", "corpus") and not os.path.exists(args.results):
        sys.exit(f"error: no results file {args.results}")
    {"init": cmd_init, "corpus": cmd_corpus, "has": cmd_has, "record": cmd_record, "check": cmd_check, "forget": cmd_forget, "same": cmd_same,
     "table": cmd_table}[args.mode](args)


if __name__ == "__main__":
    main()
