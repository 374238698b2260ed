#!/usr/bin/env python3
"""2-rank data-parallel training: `sift train` against PyTorch DistributedDataParallel (manual, not in CI).

Usage: ddp_compare.py --sift BIN --data DATASET [--configs mini[,base]] [--steps N] [--out FILE]

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
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time

SIZES = {"tiny": (2, 128, 2), "mini": (4, 256, 4), "small": (4, 512, 8), "medium": (8, 512, 8), "base": (12, 768, 12)}
B, T = 32, 128


def vocab_size(data):
    with open(os.path.join(data, "vocab.txt"), encoding="utf-8") as f:
        return sum(1 for line in f if line.rstrip("\n"))


def sift_run(binary, data, config, steps, ranks, threads):
    """Median step time and phase split of `sift train` (vanilla, no evaluation or checkpoints)."""
    with tempfile.TemporaryDirectory() as d:
        metrics = os.path.join(d, "m.jsonl")
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMPI_ALLOW_RUN_AS_ROOT="1",
                   OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", SIFT_PROGRESS="plain")
        cmd = [binary, "train", "--config", config, "--data", data, "--policy", "vanilla", "--batch-size", str(B),
               "--steps", str(steps), "--warmup", "1", "--eval-every", "0", "--check-replicas-every", "0",
               "--log-every", "1000", "--metrics", metrics]
        if ranks > 1:
            cmd = ["mpirun", "-np", str(ranks), "--oversubscribe", "--bind-to", "none", "-x", "OPENBLAS_NUM_THREADS"] + cmd
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        rows = [json.loads(l) for l in open(metrics) if l.strip()]
    rows = [r for r in rows if "times" in r]
    elapsed = [r["elapsed"] for r in rows]
    dts = [b - a for a, b in zip(elapsed, elapsed[1:])][2:]
    split = {k: statistics.median(r["times"][k] for r in rows[3:]) for k in rows[-1]["times"]}
    return statistics.median(dts), split


def torch_worker(rank, world, config, vocab, steps, threads, mode, port, out):
    import torch
    import torch.distributed as dist
    from transformers import BertConfig, BertForMaskedLM
    torch.set_num_threads(threads)
    L, H, A = SIZES[config]
    if world > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
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
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    g = torch.Generator().manual_seed(1000 + rank)
    per = B // world
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sift", required=True, help="the sift binary (release build)")
    ap.add_argument("--data", required=True, help="a dataset from `sift prepare` (sequence length 128)")
    ap.add_argument("--configs", default="mini")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.steps < 6:
        sys.exit("error: --steps must be at least 6 (the median is over steps 3..N)")
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
