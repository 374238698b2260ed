#!/usr/bin/env python3
"""2-rank data-parallel training: `sift train` against PyTorch DistributedDataParallel (manual, not in CI).

Usage: ddp_compare.py --sift BIN --data DATASET [--configs mini[,base]] [--steps N] [--out FILE]
       ddp_compare.py --cluster K --data DATASET [--sift BIN] [--configs mini] [--steps N] [--per-rank-batch 16]
                      [--bucket-mb 4] [--bf16-hook] [--torch-only] [--row-prefix PATH] [--out FILE]

One run, back to back on this machine, the same computation on both sides: BERT (sizes as `sift`'s
--config), the dataset's vocabulary size, sequence 128, b 32 global (16 per rank), ~15% of positions
masked with the MLM head applied to the masked positions only, dropout 0.1, AdamW with gradient
clipping at 1.0, vanilla (no selection). Configurations measured:
  sift   2 ranks x 1 thread  (mpirun, OPENBLAS_NUM_THREADS=1)
  sift   1 rank  x 2 threads (OPENBLAS_NUM_THREADS=2)
  torch  2 ranks x 1 thread  (DistributedDataParallel, gloo backend, torch.set_num_threads(1))
  torch  2 ranks x 1 thread  under no_sync() (no gradient communication: what DDP's allreduce costs)
  torch  1 rank  x 2 threads (no DDP)
Step time is the median over steps 3..N (the first steps warm caches and allocators); samples/s is
32 / step time. sift's split comes from its metrics (`times`); torch's from timers around forward,
backward (which includes DDP's overlapped allreduce) and the optimizer. "Exposed allreduce" is sift's
logged `exposed_allreduce`, and for DDP the step time minus the no_sync step time.
Needs PyTorch and transformers (e.g. a venv: pip install torch transformers); prints a Markdown table
and writes it to --out when given.

--cluster K: across the two hosts of `launch/cluster.sh up 2 [--rate R] --id K` (run as root) instead
of one: each DDP worker runs inside its host (`ip netns exec siftcK-hI`, MASTER_ADDR 10.213.K.1, gloo on
eth0, 1 thread), DDP's bucket_cap_mb = --bucket-mb (sift's --bucket-mb, default 4), b = 2 x
--per-rank-batch; sift runs on the same hosts through launch/mpirun.sh --hostfile/--agent (the cluster's
files in --cluster-dir, default $SIFT_CLUSTER_DIR or /run/siftcK). --bf16-hook adds a DDP run with
PyTorch's bf16_compress_hook (gradients exchanged in bfloat16, half the bytes, averaged in fp32 after).
--torch-only skips sift (launch/cluster_bench.sh runs it itself); --row-prefix P writes each DDP run as
P-ddp.json / P-ddp_bf16.json rows for `sift project --check-network` (--row-extra k=v adds fields).
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from metrics_io import read_rows  # noqa: E402  (the one reader of metrics logs)

SIZES = {"tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8), "medium": (8, 512, 8), "base": (12, 768, 12),
         "deep12": (12, 128, 2)}
B, T = 32, 128


def vocab_size(data):
    with open(os.path.join(data, "vocab.txt"), encoding="utf-8") as f:
        return sum(1 for line in f if line.rstrip("\n"))


def sift_run(binary, data, config, steps, ranks, threads, batch=B, launcher=None, extra=()):
    """Median step time and phase split of `sift train` (vanilla, no evaluation or checkpoints).
    `launcher` replaces the plain mpirun (e.g. launch/mpirun.sh with a cluster's hostfile and agent)."""
    with tempfile.TemporaryDirectory() as d:
        metrics = os.path.join(d, "m.jsonl")
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMPI_ALLOW_RUN_AS_ROOT="1",
                   OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", SIFT_PROGRESS="plain")
        cmd = [binary, "train", "--config", config, "--data", data, "--policy", "vanilla", "--batch-size", str(batch),
               "--steps", str(steps), "--warmup", "1", "--eval-every", "0", "--check-replicas-every", "0",
               "--log-every", "1000", "--metrics", metrics, *extra]
        if launcher:
            env["SIFT_BINARY"] = binary
            cmd = launcher + cmd[1:]
        elif ranks > 1:
            cmd = ["mpirun", "-np", str(ranks), "--oversubscribe", "--bind-to", "none", "-x", "OPENBLAS_NUM_THREADS"] + cmd
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        rows = [r for r in read_rows(metrics) if "times" in r]
    elapsed = [r["elapsed"] for r in rows]
    dts = [b - a for a, b in zip(elapsed, elapsed[1:])][2:]
    split = {k: statistics.median(r["times"][k] for r in rows[3:]) for k in rows[-1]["times"]}
    return statistics.median(dts), split


def torch_worker(rank, world, config, vocab, steps, threads, mode, port, out, addr="127.0.0.1", batch=B, bucket_mb=None,
                 hook=None):
    """One DDP rank: `batch` samples per step over `world` ranks; `bucket_mb` is DDP's bucket_cap_mb
    (None: its default, 25); hook "bf16" registers bf16_compress_hook."""
    import torch
    import torch.distributed as dist
    from transformers import BertConfig, BertForMaskedLM
    torch.set_num_threads(threads)
    L, H, A = SIZES[config]
    if world > 1:
        os.environ.update(MASTER_ADDR=addr, MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)
    bert = BertForMaskedLM(BertConfig(vocab_size=vocab, hidden_size=H, num_hidden_layers=L, num_attention_heads=A,
                                      intermediate_size=4 * H, max_position_embeddings=512)).train()

    class MaskedHead(torch.nn.Module):
        """Encoder, then the MLM head on the masked positions only (sift's computation)."""
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, ids, sel):
            hidden = self.m.bert(input_ids=ids).last_hidden_state[sel]
            return torch.nn.functional.cross_entropy(self.m.cls(hidden), ids[sel])

    model = MaskedHead(bert)
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model, **({"bucket_cap_mb": bucket_mb} if bucket_mb else {}))
        if hook == "bf16":
            from torch.distributed.algorithms.ddp_comm_hooks import default_hooks
            model.register_comm_hook(None, default_hooks.bf16_compress_hook)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    g = torch.Generator().manual_seed(1000 + rank)
    per = batch // world
    times, phases = [], []
    for step in range(steps):
        ids = torch.randint(5, vocab, (per, T), generator=g)
        sel = torch.rand(per, T, generator=g) < 0.15
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        if mode == "no_sync":
            with model.no_sync():
                loss = model(ids, sel)
                t1 = time.perf_counter()
                loss.backward()
        else:
            loss = model(ids, sel)
            t1 = time.perf_counter()
            loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if world > 1:
            dist.barrier()
        t3 = time.perf_counter()
        times.append(t3 - t0)
        phases.append((t1 - t0, t2 - t1, t3 - t2))
    if rank == 0:
        keep = phases[3:]
        json.dump({"step": statistics.median(times[3:]),
                   "forward": statistics.median(p[0] for p in keep), "backward": statistics.median(p[1] for p in keep),
                   "optimizer": statistics.median(p[2] for p in keep)}, open(out, "w"))
    if world > 1:
        dist.destroy_process_group()


def torch_run(config, vocab, steps, world, threads, mode, port):
    import torch.multiprocessing as mp
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "t.json")
        mp.spawn(torch_worker, args=(world, config, vocab, steps, threads, mode, port, out), nprocs=world, join=True)
        return json.load(open(out))


def cluster_torch_run(a, config, vocab, hook, port):
    """Both DDP ranks, each inside its namespace host of cluster a.cluster; rank 0's medians."""
    here = os.path.abspath(__file__)
    addr = f"10.213.{a.cluster}.1"
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "t.json")
        procs = []
        for rank in range(2):
            kwargs = dict(rank=rank, world=2, config=config, vocab=vocab, steps=a.steps, threads=1, mode="sync", port=port,
                          out=out, addr=addr, batch=2 * a.per_rank_batch, bucket_mb=a.bucket_mb, hook=hook)
            env = dict(os.environ, GLOO_SOCKET_IFNAME="eth0", OMP_NUM_THREADS="1")
            procs.append(subprocess.Popen(["ip", "netns", "exec", f"siftc{a.cluster}-h{rank + 1}", sys.executable, here,
                                           "--worker", json.dumps(kwargs)], env=env))
        codes = [p.wait() for p in procs]
        if any(codes):
            sys.exit(f"error: a DDP worker failed (exit codes {codes}) on cluster {a.cluster}")
        return json.load(open(out))


def cluster_main(a):
    """sift against DDP across the two hosts of cluster a.cluster, one row per engine."""
    if os.geteuid() != 0:
        sys.exit("error: --cluster needs root (ip netns exec)")
    hosts = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for i in (1, 2):
        if f"siftc{a.cluster}-h{i}" not in hosts:
            sys.exit(f"error: host siftc{a.cluster}-h{i} does not exist (launch/cluster.sh up 2 --id {a.cluster} first)")
    cdir = a.cluster_dir or os.environ.get("SIFT_CLUSTER_DIR") or f"/run/siftc{a.cluster}"
    if not a.torch_only and not a.sift:
        sys.exit("error: --cluster without --torch-only needs --sift BIN")
    import torch
    vocab = vocab_size(a.data)
    extra = dict(kv.split("=", 1) for kv in a.row_extra)
    rate = extra.get("rate", "?")
    b = 2 * a.per_rank_batch
    lines = [f"Measured {time.strftime('%Y-%m-%d')} across 2 emulated hosts (cluster {a.cluster}, link {rate}), "
             f"{os.cpu_count()} cores; PyTorch {torch.__version__}; V {vocab}, T {T}, b {b} global, vanilla, "
             f"{a.bucket_mb} MiB buckets, {a.steps} steps (median of steps 3..{a.steps}).", "",
             "| config | run | s/step | samples/s | split (s) |", "|---|---|---|---|---|"]
    port = 29500 + os.getpid() % 1000
    for config in a.configs.split(","):
        results = []
        if not a.torch_only:
            launcher = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "launch", "mpirun.sh"), "-np", "2",
                        "--hostfile", os.path.join(cdir, "hostfile"), "--agent", os.path.join(cdir, "agent"), "--"]
            st, sp = sift_run(a.sift, a.data, config, a.steps, 2, 1, batch=b, launcher=launcher,
                              extra=("--bucket-mb", str(a.bucket_mb)))
            results.append(("sift", st, f"fwd+bwd {sp['forward_backward']:.3f}, exposed allreduce "
                                        f"{sp['exposed_allreduce']:.3f}, optimizer {sp['optimizer']:.3f}", sp))
        for engine, hook in [("ddp", None)] + ([("ddp_bf16", "bf16")] if a.bf16_hook else []):
            d = cluster_torch_run(a, config, vocab, hook, port)
            port += 1
            times = {k: d[k] for k in ("forward", "backward", "optimizer")}
            results.append((engine, d["step"], f"fwd {d['forward']:.3f}, bwd {d['backward']:.3f}, optimizer {d['optimizer']:.3f}",
                            times))
            if a.row_prefix:
                row = dict(engine=engine, model=config, hosts=2, ranks=2, batch_size=b, per_rank_batch=a.per_rank_batch,
                           bucket_mb=a.bucket_mb, step_s=d["step"], times=times, steps_timed=a.steps - 3)
                for k, v in extra.items():
                    try:
                        row[k] = json.loads(v)
                    except ValueError:
                        row[k] = v
                json.dump(row, open(f"{a.row_prefix}-{engine}.json", "w"), indent=1, sort_keys=True)
        for engine, t, split, _ in results:
            lines.append(f"| {config} | {engine} | {t:.3f} | {b / t:.1f} | {split} |")
        sift = next((t for e, t, _, _ in results if e == "sift"), None)
        for engine, t, _, _ in results:
            if sift and engine != "sift":
                lines.append(f"| {config} | **{engine} / sift step time** | **{t / sift:.2f}x** | | |")
        print("\n".join(lines[-len(results) - 2:]), flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        open(a.out, "w").write(text)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":  # one DDP rank inside a namespace host (cluster mode)
        torch_worker(**json.loads(sys.argv[2]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sift", help="the sift binary (release build); required unless --cluster with --torch-only")
    ap.add_argument("--data", required=True, help="a dataset from `sift prepare` (sequence length 128)")
    ap.add_argument("--configs", default="mini")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--out")
    ap.add_argument("--cluster", type=int, help="run across the 2 hosts of launch/cluster.sh's cluster K")
    ap.add_argument("--cluster-dir", help="the cluster's hostfile and agent (default $SIFT_CLUSTER_DIR or /run/siftcK)")
    ap.add_argument("--per-rank-batch", type=int, default=16, help="with --cluster: samples per rank per step (default 16)")
    ap.add_argument("--bucket-mb", type=float, default=4, help="with --cluster: DDP bucket_cap_mb and sift --bucket-mb (default 4)")
    ap.add_argument("--bf16-hook", action="store_true", help="with --cluster: also DDP with bf16_compress_hook")
    ap.add_argument("--torch-only", action="store_true", help="with --cluster: skip the sift run")
    ap.add_argument("--row-prefix", help="with --cluster: write DDP rows to PREFIX-ddp.json, PREFIX-ddp_bf16.json")
    ap.add_argument("--row-extra", action="append", default=[], help="with --row-prefix: KEY=VALUE added to each row")
    a = ap.parse_args()
    if a.steps < 6:
        sys.exit("error: --steps must be at least 6 (the median is over steps 3..N)")
    if a.cluster is not None:
        for c in a.configs.split(","):
            if c not in SIZES:
                sys.exit(f"error: unknown config '{c}' (expected one of {', '.join(SIZES)})")
        return cluster_main(a)
    if not a.sift:
        sys.exit("error: --sift is required")
    import torch, platform
    vocab = vocab_size(a.data)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({cpu}); PyTorch {torch.__version__}; "
             f"V {vocab}, T {T}, b {B} global, vanilla, {a.steps} steps (median of steps 3..{a.steps}).",
             f"Command: tools/ddp_compare.py --sift {a.sift} --data {a.data} --configs {a.configs} --steps {a.steps}", "",
             "| config | run | s/step | samples/s | split (s) | exposed allreduce (s) |", "|---|---|---|---|---|---|"]
    port = 29500 + os.getpid() % 1000
    for config in a.configs.split(","):
        s2, p2 = sift_run(a.sift, a.data, config, a.steps, 2, 1)
        s1, p1 = sift_run(a.sift, a.data, config, a.steps, 1, 2)
        d2 = torch_run(config, vocab, a.steps, 2, 1, "sync", port)
        dn = torch_run(config, vocab, a.steps, 2, 1, "no_sync", port + 1)
        t1 = torch_run(config, vocab, a.steps, 1, 2, "sync", port + 2)
        def sift_split(p):
            return f"fwd+bwd {p['forward_backward']:.3f}, optimizer {p['optimizer']:.3f}, data {p['data']:.3f}"
        def torch_split(d):
            return f"fwd {d['forward']:.3f}, bwd {d['backward']:.3f}, optimizer {d['optimizer']:.3f}"
        rows = [("sift 2 ranks x 1 thread", s2, sift_split(p2), f"{p2['exposed_allreduce']:.3f}"),
                ("sift 1 rank x 2 threads", s1, sift_split(p1), "-"),
                ("DDP gloo 2 ranks x 1 thread", d2["step"], torch_split(d2), f"{max(0.0, d2['step'] - dn['step']):.3f}"),
                ("DDP 2 x 1, no_sync (no communication)", dn["step"], torch_split(dn), "-"),
                ("torch 1 rank x 2 threads", t1["step"], torch_split(t1), "-")]
        for name, t, split, ar in rows:
            lines.append(f"| {config} | {name} | {t:.3f} | {B / t:.1f} | {split} | {ar} |")
        lines.append(f"| {config} | **sift / DDP samples/s** | | **{d2['step'] / s2:.2f}x** | | |")
        print("\n".join(lines[-6:]), flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        open(a.out, "w").write(text)


if __name__ == "__main__":
    main()
