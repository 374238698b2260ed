import ArgumentParser
import Communication
import Core
import Foundation
import Kernels
import Model
import Selection
import Training

/// `sift bench`: the machine's limits (memory bandwidth, sgemm GFLOP/s per thread count), training-step
/// throughput and SIFT's scoring overhead per model size, and allreduce bandwidth against the ring
/// algorithm's bound on this machine's memory bandwidth, as tables and JSON.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure memory bandwidth, sgemm GFLOP/s, training-step throughput, SIFT's scoring overhead and allreduce bandwidth.",
        discussion: """
        FLOPs count matrix products only (2·m·n·k each): the encoder's projections, attention scores and \
        context, the feed-forward layers, and the MLM head on masked positions only; backward counts twice \
        the forward's products. Softmax, LayerNorm, GELU, dropout and the optimizer are not counted. \
        Model FLOPs utilisation (MFU) divides a step's achieved GFLOP/s by the best sgemm rate measured \
        under the same conditions (this rank's OpenBLAS threads, all ranks at once). A vanilla step is \
        forward+backward of b samples plus the AdamW update; a SIFT step adds scoring b/ρ candidates at \
        the exit layer and choosing the top b. Run under launch/mpirun.sh with 2+ ranks to also measure \
        the gradient allreduce; every rank runs the step benchmarks at once and the slowest rank is reported.
        """)

    @Option(help: "Comma-separated model sizes (tiny, mini, small, medium, base).")
    var configs: String = "tiny,mini,small,medium,base"
    @Option(help: "Vocabulary size of the benchmarked models.")
    var vocabSize: Int = 30522
    @Option(help: "Sequence length.")
    var seqLen: Int = 128
    @Option(help: "Samples backpropagated per step on this rank (b).")
    var batchSize: Int = 32
    @Option(help: "Selection fraction ρ of the SIFT step.")
    var selectFraction: Double = 0.5
    @Option(help: "Comma-separated exit layers for the SIFT step: numbers or 'mid' (half the layers, at least 2); clamped to the model's layers.")
    var exitLayers: String = "1,mid"
    @Option(help: "Timed repetitions per measurement (after one warm-up); the median is reported.")
    var repeats: Int = 3
    @Option(help: "Comma-separated sections to run: memory, sgemm, step, allreduce.")
    var only: String = "memory,sgemm,step,allreduce"
    @Option(help: "Comma-separated OpenBLAS thread counts for the sgemm table (default: 1 up to the cores).")
    var threads: String?
    @Flag(help: "A run under two minutes: tiny, mini and base (b = 16, 4 for base), two repetitions.")
    var quick = false
    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    static let sectionNames = ["memory", "sgemm", "step", "allreduce"]

    func validate() throws {
        for c in configs.split(separator: ",") where BertConfig.named(String(c), vocabSize: vocabSize) == nil {
            throw ValidationError("unknown model size '\(c)' (expected tiny, mini, small, medium or base)")
        }
        guard vocabSize >= 5 else { throw ValidationError("--vocab-size must be at least 5") }
        guard selectFraction > 0 && selectFraction <= 1 else { throw ValidationError("--select-fraction must be in (0, 1]") }
        guard batchSize >= 1, repeats >= 1, seqLen >= 8, seqLen <= 512 else {
            throw ValidationError("--batch-size and --repeats must be positive, --seq-len in 8...512")
        }
        for e in exitLayers.split(separator: ",") where e != "mid" && (Int(e) ?? 0) < 1 {
            throw ValidationError("--exit-layers: '\(e)' is not a positive layer number or 'mid'")
        }
        for s in only.split(separator: ",") where !Self.sectionNames.contains(String(s)) {
            throw ValidationError("--only: unknown section '\(s)' (expected \(Self.sectionNames.joined(separator: ", ")))")
        }
        if let json {
            let dir = (json as NSString).deletingLastPathComponent
            guard FileManager.default.isWritableFile(atPath: dir.isEmpty ? "." : dir) else {
                throw ValidationError("--json: cannot write to directory '\(dir.isEmpty ? "." : dir)'")
            }
        }
        if let threads, threads.split(separator: ",").contains(where: { (Int($0) ?? 0) < 1 }) {
            throw ValidationError("--threads must be a comma-separated list of positive integers")
        }
    }

    /// What this run measures, after `--quick` is applied.
    struct Plan {
        var names: [String]
        var batch: [String: Int]
        var repeats: Int
        var sections: Set<String>
        var threadCounts: [Int]
    }

    func plan() -> Plan {
        let defaultConfigs = "tiny,mini,small,medium,base"
        let names = quick && configs == defaultConfigs ? ["tiny", "mini", "base"]
            : configs.split(separator: ",").map { $0.lowercased() }
        var batch: [String: Int] = [:]
        for n in names {
            // Quick mode keeps BERT-base to a few samples: one forward+backward of b = 4 takes seconds.
            batch[n] = quick ? min(batchSize, n == "base" ? 4 : 16) : batchSize
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let threadCounts = threads.map { $0.split(separator: ",").compactMap { Int($0) } } ?? Array(1...max(1, cores))
        return Plan(names: names, batch: batch, repeats: quick ? 2 : repeats,
                    sections: Set(only.split(separator: ",").map(String.init)),
                    threadCounts: Array(Set(threadCounts)).sorted())
    }

    func run() throws {
        let comm = try Communicator()
        let started = Date()
        let idle = IdleClock()
        let plan = plan()
        let say: (String) -> Void = { if comm.isRoot { print($0); fflush(stdout) } }
        let rankThreads = BLAS.threads
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var report: [String: Any] = [:]
        report["machine"] = [
            "cpu": Self.cpuModel(), "cores": cores, "ranks": comm.size, "openblas_threads_per_rank": rankThreads,
            "memory_gib": Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30),
            "date": ISO8601DateFormatter().string(from: Date()),
        ] as [String: Any]
        report["settings"] = [
            "configs": plan.names, "vocab_size": vocabSize, "seq_len": seqLen, "batch_size": plan.batch,
            "select_fraction": selectFraction, "exit_layers": exitLayers, "repeats": plan.repeats, "quick": quick,
        ] as [String: Any]

        say("sift bench — \(Self.cpuModel()), \(cores) cores, \(comm.size) rank(s) × \(rankThreads) OpenBLAS thread(s), "
            + "seq len \(seqLen), vocab \(vocabSize), ρ = \(selectFraction)\(quick ? " (quick)" : "")")
        let load = Self.loadAverage()
        report["machine"] = (report["machine"] as! [String: Any]).merging(["load_average_at_start": jsonValue(load)]) { $1 }
        if let load, load >= 1 {
            say("note: 1-minute load average \(fmt(load, 2)) at start (it includes anything that just finished); if other processes are running, the rates below understate the machine")
        }
        if comm.size * rankThreads > cores {
            say("note: \(comm.size) ranks × \(rankThreads) threads exceed the \(cores) cores: rates below are shared-core rates")
        }

        var memory: MemoryRates?
        if plan.sections.contains("memory") {
            memory = measureMemory(comm, idle: idle, say: say)
            report["memory"] = memory!.json
        }
        var peak: Double?
        if plan.sections.contains("sgemm") {
            let (rows, best) = measureSgemm(comm, idle: idle, plan: plan, rankThreads: rankThreads, say: say)
            report["sgemm"] = rows
            report["sgemm_peak_gflops"] = best
            peak = best
        }
        if plan.sections.contains("step") {
            let (rows, target) = measureSteps(comm, plan: plan, peak: peak, say: say)
            report["steps"] = rows
            report["sift_target"] = jsonValue(target)
        }
        if plan.sections.contains("allreduce") {
            if comm.size > 1 {
                report["allreduce"] = measureAllreduce(comm, plan: plan, memory: memory, say: say)
            } else {
                say("\nallreduce: skipped (one rank; run under launch/mpirun.sh -np 2 or more)")
            }
        }
        // How much of its busy wall time (not counting quiet waits while rank 0 measured alone) this
        // rank was on a CPU: well below 1 means it waited for cores that other processes held.
        let busy = max(1e-9, Date().timeIntervalSince(started) - idle.seconds)
        let cpuShare = -comm.allreduceMax(-Self.cpuSeconds() / busy)
        report["lowest_cpu_share_of_wall_time"] = cpuShare
        if cpuShare < 0.8 {
            say("\nwarning: a rank was on a CPU only \(pct(cpuShare, 0)) of the wall time: other processes competed for the cores, so these rates understate the machine")
        }
        if comm.isRoot, let json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
            do {
                try data.write(to: URL(fileURLWithPath: json), options: .atomic)
            } catch {
                comm.finalize()
                fail("cannot write \(json): \(error.localizedDescription)")
            }
            say("\nwrote \(json)")
        }
        comm.finalize()
    }

    // MARK: - Timing

    /// Waits in `Communicator.quietBarrier` and keeps the seconds spent there, so the CPU-share check
    /// does not count a rank's deliberate sleep while rank 0 measures alone as lost time.
    final class IdleClock {
        var seconds = 0.0
        func wait(_ comm: Communicator) {
            let t0 = Date()
            comm.quietBarrier()
            seconds += Date().timeIntervalSince(t0)
        }
    }

    /// Median seconds of `repeats` runs of `body` after one warm-up run. With `together` every rank runs
    /// it in lockstep (a barrier before each run) and the slowest rank's median is returned; otherwise
    /// only the calling rank times it.
    func median(_ comm: Communicator?, repeats: Int, _ body: () -> Void) -> Double {
        comm?.barrier()
        body()
        var samples: [Double] = []
        for _ in 0..<repeats {
            comm?.barrier()
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        let m = samples.sorted()[samples.count / 2]
        return comm?.allreduceMax(m) ?? m
    }

    // MARK: - Memory

    /// Aggregate STREAM rates in bytes/s: rank 0 alone, and all ranks streaming at once.
    struct MemoryRates {
        var aloneCopy: Double, aloneTriad: Double
        var allCopy: Double, allTriad: Double
        var ranks: Int
        var arrayBytes: Int

        var json: [String: Any] {
            ["array_bytes": arrayBytes, "ranks_together": ranks,
             "rank0_alone": ["copy_bytes_per_s": aloneCopy, "triad_bytes_per_s": aloneTriad],
             "all_ranks": ["copy_bytes_per_s": allCopy, "triad_bytes_per_s": allTriad]]
        }
    }

    func measureMemory(_ comm: Communicator, idle: IdleClock, say: (String) -> Void) -> MemoryRates {
        // 32 Mi floats = 128 MiB per array, 4× the 32 MiB L3 of common server parts.
        let elements = 32 << 20
        let arrays = StreamArrays(count: elements)
        let passes = 5
        func best(_ kernel: () -> Double, together: Bool) -> Double {
            var b = Double.infinity
            for _ in 0..<passes {
                if together { comm.barrier() }
                let t = kernel()
                b = min(b, together ? comm.allreduceMax(t) : t)
            }
            return b
        }
        var alone = (copy: 0.0, triad: 0.0)
        if comm.isRoot {
            alone = (arrays.copyBytes / best(arrays.copy, together: false), arrays.triadBytes / best(arrays.triad, together: false))
        }
        idle.wait(comm)
        var all = alone
        if comm.size > 1 {
            all = (Double(comm.size) * arrays.copyBytes / best(arrays.copy, together: true),
                   Double(comm.size) * arrays.triadBytes / best(arrays.triad, together: true))
        }
        if arrays.checksum.isNaN { say("(checksum)") }
        let rates = MemoryRates(aloneCopy: alone.copy, aloneTriad: alone.triad, allCopy: all.copy, allTriad: all.triad,
                                ranks: comm.size, arrayBytes: elements * 4)
        say("\nmemory bandwidth — STREAM copy a=b and triad a=b+s·c on 3 × \((elements * 4) >> 20) MiB float arrays per rank, best of \(passes), STREAM byte counting")
        var table = TextTable(["streaming", "copy GB/s", "triad GB/s"])
        table.add(["rank 0 alone", fmt(alone.copy / 1e9, 1), fmt(alone.triad / 1e9, 1)])
        if comm.size > 1 { table.add(["\(comm.size) ranks at once (sum)", fmt(all.copy / 1e9, 1), fmt(all.triad / 1e9, 1)]) }
        say(table.render())
        return rates
    }

    // MARK: - sgemm

    /// The matrix products of one training step of `config` on `tokens` rows, as (label, m, k, n):
    /// C[m, n] = A[m, k] · W[n, k]ᵀ, the shape of every linear layer's forward.
    static func productShapes(_ c: BertConfig, tokens: Int) -> [(String, Int, Int, Int)] {
        let masked = max(1, Int((Double(tokens) * 0.15).rounded()))
        return [("Q/K/V/attn-out", tokens, c.hiddenSize, c.hiddenSize),
                ("FFN in", tokens, c.hiddenSize, c.intermediateSize),
                ("FFN out", tokens, c.intermediateSize, c.hiddenSize),
                ("MLM decoder", masked, c.hiddenSize, c.vocabSize)]
    }

    /// sgemm GFLOP/s at each configuration's shapes: rank 0 alone at each thread count (the others wait
    /// without spinning), then every rank at once at its own thread count. Returns the JSON rows and
    /// the peak rate for MFU: the best rate under the steps' conditions (all ranks at once at the
    /// ranks' thread count, or one rank at its thread count).
    func measureSgemm(_ comm: Communicator, idle: IdleClock, plan: Plan, rankThreads: Int, say: (String) -> Void) -> ([[String: Any]], Double) {
        var rows: [[String: Any]] = []
        var peak = 0.0
        let together = comm.size > 1
        let header = ["config", "product", "m × k → n"] + plan.threadCounts.map { "\($0) thread\($0 == 1 ? "" : "s")" }
            + (together ? ["\(comm.size) ranks × \(rankThreads) thr, per rank"] : [])
        var table = TextTable(header, alignments: [.left, .left, .left] + Array(repeating: .right, count: header.count - 3))
        var seen = Set<String>()
        var bestByThreads = [Int: Double]()
        for name in plan.names {
            let config = BertConfig.named(name, vocabSize: vocabSize)!
            for (label, m, k, n) in Self.productShapes(config, tokens: plan.batch[name]! * seqLen) {
                let key = "\(m)x\(k)x\(n)"
                if seen.contains(key) { continue }
                seen.insert(key)
                var cells = [name, label, "\(m) × \(k) → \(n)"]
                for t in plan.threadCounts {
                    var g = 0.0
                    if comm.isRoot {
                        BLAS.threads = t
                        g = sgemmGFLOPs(m: m, k: k, n: n, repeats: plan.repeats, comm: nil)
                        rows.append(["config": name, "product": label, "m": m, "k": k, "n": n, "threads": BLAS.threads,
                                     "ranks_at_once": 1, "gflops": g])
                        bestByThreads[t] = max(bestByThreads[t] ?? 0, g)
                        BLAS.threads = rankThreads
                    }
                    idle.wait(comm)
                    cells.append(fmt(g, 1))
                }
                if together {
                    let g = sgemmGFLOPs(m: m, k: k, n: n, repeats: plan.repeats, comm: comm)
                    rows.append(["config": name, "product": label, "m": m, "k": k, "n": n, "threads": rankThreads,
                                 "ranks_at_once": comm.size, "gflops": g])
                    peak = max(peak, g)
                    cells.append(fmt(g, 1))
                }
                table.add(cells)
            }
        }
        if !together { peak = bestByThreads[rankThreads] ?? bestByThreads.values.max() ?? 0 }
        say("\nsgemm C = A·Wᵀ (OpenBLAS), GFLOP/s, median of \(plan.repeats); m = b·T tokens (decoder: the 15% masked rows)")
        say(table.render())
        say("  peak for MFU: \(fmt(peak, 1)) GFLOP/s (best rate with \(together ? "\(comm.size) ranks × \(rankThreads) thread(s) at once, per rank" : "\(rankThreads) thread(s)"))")
        return (rows, peak)
    }

    /// GFLOP/s of C = A·Wᵀ at (m, k, n); the slowest rank's median if `comm` is given.
    func sgemmGFLOPs(m: Int, k: Int, n: Int, repeats: Int, comm: Communicator?) -> Double {
        let a = FloatBuffer(count: m * k), w = FloatBuffer(count: n * k), c = FloatBuffer(count: m * n)
        for i in 0..<a.count { a[i] = Float(i % 13) * 0.01 }
        for i in 0..<w.count { w[i] = Float(i % 7) * 0.01 }
        let secs = median(comm, repeats: repeats) {
            BLAS.gemm(transposeB: true, m: m, n: n, k: k, a: a.pointer, lda: k, b: w.pointer, ldb: k, c: c.pointer, ldc: n)
        }
        return 2 * Double(m) * Double(n) * Double(k) / secs / 1e9
    }

    // MARK: - Steps

    /// Exit layers for `config`: the requested ones ('mid' = max(2, L/2)), clamped to 1…L, deduplicated.
    func exits(for config: BertConfig) -> [Int] {
        let L = config.numLayers
        let requested = exitLayers.split(separator: ",").map { $0 == "mid" ? max(2, L / 2) : Int($0) ?? 1 }
        return Array(Set(requested.map { min(max(1, $0), L) })).sorted()
    }

    /// Times the parts of a step for every configuration on every rank at once and prints, per
    /// configuration, a vanilla row and one SIFT row per exit layer. Returns the JSON rows and the
    /// verdict on the BERT-base target (nil when base at exit 1 and ρ = 0.5 was not measured).
    func measureSteps(_ comm: Communicator, plan: Plan, peak: Double?, say: (String) -> Void) -> ([[String: Any]], [String: Any]?) {
        var rows: [[String: Any]] = []
        var target: [String: Any]?
        say("\ntraining step on one rank (T = \(seqLen); all \(comm.size) rank(s) at once, slowest rank's median of \(plan.repeats))")
        var table = TextTable(["config", "step", "b", "pool", "s/step", "tokens/s", "GFLOP/s", "MFU",
                               "scoring share", "(FLOPs)", "vs vanilla", "(FLOPs)"],
                              alignments: [.left, .left] + Array(repeating: .right, count: 10))
        for name in plan.names {
            let config = BertConfig.named(name, vocabSize: vocabSize)!
            let b = plan.batch[name]!
            let model = BertForMaskedLM(config: config, seed: 1)
            let optimizer = AdamW(layout: model.layout)
            let batch = syntheticBatch(count: b, seqLen: seqLen, vocab: vocabSize, salt: 1)
            let masked = max(1, batch.maskedTokenCount)
            let trainFLOPs = BertForMaskedLM.trainingFLOPs(config: config, batch: b, seqLen: seqLen, maskedTokens: masked)
            let forwardBackward = median(comm, repeats: plan.repeats) {
                model.gradients.zero()
                _ = model.forwardBackward(batch, lossWeight: 1 / Float(masked), dropoutSeed: 7)
            }
            var updates = 0
            let optimizerSeconds = median(comm, repeats: plan.repeats) {
                updates += 1
                let norm = globalNorm(model.gradients)
                optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: 1e-6, step: updates,
                                 gradientScale: norm > 1 ? Float(1 / norm) : 1)
            }
            let vanilla = forwardBackward + optimizerSeconds
            func row(_ label: String, exit: Int?, pool: Int?, secs: Double, flops: Double, scoring: Double?,
                     predictedShare: Double?, overhead: Double?, predictedOverhead: Double?) {
                let g = flops / secs / 1e9
                let mfu = peak.map { g / $0 }
                let share = scoring.map { $0 / secs }
                table.add([name, label, "\(b)", pool.map(String.init) ?? "—", fmt(secs, 3), fmt(Double(b * seqLen) / secs, 0),
                           fmt(g, 1), pct(mfu), pct(share), pct(predictedShare), signedPct(overhead), signedPct(predictedOverhead)])
                rows.append(["config": name, "step": exit == nil ? "vanilla" : "sift", "exit_layer": jsonValue(exit),
                             "batch": b, "pool": jsonValue(pool), "seconds": secs,
                             "forward_backward_seconds": forwardBackward, "optimizer_seconds": optimizerSeconds,
                             "scoring_seconds": jsonValue(scoring),
                             "tokens_per_s_per_rank": Double(b * seqLen) / secs,
                             "tokens_per_s_all_ranks": Double(comm.size * b * seqLen) / secs,
                             "flops": flops, "gflops": g, "mfu": jsonValue(mfu),
                             "scoring_share": jsonValue(share), "predicted_scoring_share": jsonValue(predictedShare),
                             "overhead": jsonValue(overhead), "predicted_overhead": jsonValue(predictedOverhead),
                             "ranks": comm.size, "threads_per_rank": BLAS.threads, "vocab_size": vocabSize, "seq_len": seqLen])
            }
            row("vanilla", exit: nil, pool: nil, secs: vanilla, flops: trainFLOPs, scoring: nil, predictedShare: nil,
                overhead: nil, predictedOverhead: nil)
            let poolSize = max(b, Int((Double(b) / selectFraction).rounded()))
            let pool = syntheticBatch(count: poolSize, seqLen: seqLen, vocab: vocabSize, salt: 2)
            let poolIndices = Array(0..<poolSize)
            for exit in exits(for: config) {
                let scoreFLOPs = BertForMaskedLM.scoringFLOPs(config: config, exitLayer: exit, batch: poolSize, seqLen: seqLen,
                                                              maskedTokens: pool.maskedTokenCount)
                let scoring = median(comm, repeats: plan.repeats) {
                    let losses = model.approximateLosses(pool, exitLayer: exit)
                    _ = TopSelection.top(scores: losses, globalIndices: poolIndices, count: b)
                }
                let step = scoring + vanilla
                let overhead = step / vanilla - 1, predicted = scoreFLOPs / trainFLOPs
                row("sift exit \(exit)", exit: exit, pool: poolSize, secs: step, flops: trainFLOPs + scoreFLOPs, scoring: scoring,
                    predictedShare: scoreFLOPs / (trainFLOPs + scoreFLOPs), overhead: overhead, predictedOverhead: predicted)
                if name == "base" && exit == 1 && abs(selectFraction - 0.5) < 1e-9 {
                    target = ["config": name, "exit_layer": 1, "select_fraction": selectFraction, "batch": b,
                              "overhead": overhead, "predicted_overhead": predicted, "limit": 0.10, "met": overhead <= 0.10]
                }
            }
        }
        say(table.render())
        if rows.contains(where: { ($0["mfu"] as? Double ?? 0) > 1 }) {
            say("  note: MFU above 100% means the sgemm peak was measured while the cores were busier than during the steps (other processes?)")
        }
        say("  s/step: vanilla = forward+backward + AdamW; SIFT adds scoring the pool of b/ρ at the exit layer + choosing the top b.")
        say("  tokens/s: backpropagated tokens per second on one rank (× \(comm.size) ranks for the machine). MFU: GFLOP/s ÷ the sgemm peak above.")
        say("  FLOPs: matrix products only (2·m·n·k): Q/K/V/output projections, attention scores and context, FFN, and the MLM head on")
        say("  the masked positions only; backward = 2 × the forward's products. Softmax, LayerNorm, GELU, dropout, AdamW are not counted.")
        say("  (FLOPs) columns: the scoring share and the SIFT overhead the FLOP count predicts.")
        if let t = target {
            let overhead = t["overhead"] as! Double, predicted = t["predicted_overhead"] as! Double
            say("  SIFT target — BERT-base, exit layer 1, ρ = 0.5, b = \(t["batch"]!): a SIFT step costs \(signedPct(overhead)) over a vanilla step "
                + "(FLOP count: \(signedPct(predicted))); target ≤ +10%: \((t["met"] as! Bool) ? "MET" : "NOT MET")"
                + (quick ? " (quick run, small b: indicative)" : ""))
        } else {
            say("  SIFT target (BERT-base, exit layer 1, ρ = 0.5): not measured in this run"
                + (plan.names.contains("base") ? " (needs --select-fraction 0.5 and exit layer 1)" : " (add base to --configs)"))
        }
        return (rows, target)
    }

    /// Random token ids with 15% of positions masked (labels set), keyed by `salt`.
    func syntheticBatch(count: Int, seqLen: Int, vocab: Int, salt: UInt64) -> MLMBatch {
        var batch = MLMBatch(count: count, seqLen: seqLen)
        for i in 0..<(count * seqLen) {
            let r = CounterHash.bits(salt, 0xBE7C, UInt64(i), 0)
            batch.inputIds[i] = Int32(5 + Int(r % UInt64(vocab - 5)))
            if (r >> 40) % 100 < 15 { batch.labels[i] = batch.inputIds[i]; batch.inputIds[i] = 4 }
        }
        for i in 0..<count { batch.sampleIndices[i] = i }
        return batch
    }

    // MARK: - Allreduce

    /// Times an in-place float allreduce of each configuration's gradient (one blocking call, and in
    /// the trainer's non-blocking 4 MiB buckets) and an 8-byte allreduce, and compares the blocking
    /// one with the ring bound on the measured memory bandwidth.
    func measureAllreduce(_ comm: Communicator, plan: Plan, memory: MemoryRates?, say: (String) -> Void) -> [String: Any] {
        let p = comm.size
        let medium = memory.map { CommunicationMedium.sharedMemory(copyBandwidth: $0.allCopy, triadBandwidth: $0.allTriad, latency: 0) }
        var rows: [[String: Any]] = []
        say("\ngradient allreduce — MPI_Allreduce in place, float32, \(p) ranks, median of \(plan.repeats); bus bandwidth = 2(p−1)/p·S / t")
        var table = TextTable(["config", "gradient", "time", "bus GB/s", "ring bound", "bound bus GB/s", "% of bound",
                               "4 MiB buckets (trainer)", "bus GB/s "])
        for name in plan.names {
            let count = ParameterLayout(config: BertConfig.named(name, vocabSize: vocabSize)!).totalCount
            let buffer = FloatBuffer(count: count)
            for i in stride(from: 0, to: count, by: 1024) { buffer[i] = 1 }
            let secs = median(comm, repeats: plan.repeats) { comm.allreduceSum(buffer.pointer, count: count) }
            let bytes = Double(count * 4)
            let bus = 2 * Double(p - 1) / Double(p) * bytes / secs
            let bound = medium.map { ScalingModel.ringAllreduceSeconds(bytes: bytes, ranks: p, buckets: 1, medium: $0) }
            let boundBus = bound.map { 2 * Double(p - 1) / Double(p) * bytes / $0 }
            // The same sum as the trainer issues it: non-blocking MPI_Iallreduce per 4 MiB bucket, all
            // started at once (no backward to overlap), then waited for.
            let buckets = GradientBuckets(gradients: buffer, communicator: comm, bucketBytes: 4 << 20, overlap: false)
            let bucketed = median(comm, repeats: plan.repeats) { _ = buckets.finish() }
            let bucketedBus = 2 * Double(p - 1) / Double(p) * bytes / bucketed
            table.add([name, String(format: "%.1f MB", bytes / 1e6), formatSeconds(secs), fmt(bus / 1e9, 2),
                       formatSeconds(bound), fmt(boundBus.map { $0 / 1e9 }, 2), pct(bound.map { $0 / secs }, 0),
                       formatSeconds(bucketed), fmt(bucketedBus / 1e9, 2)])
            rows.append(["config": name, "bytes": bytes, "seconds": secs, "bus_bytes_per_s": bus,
                         "bucketed_seconds": bucketed, "bucketed_bus_bytes_per_s": bucketedBus, "buckets": buckets.ranges.count,
                         "ring_bound_seconds": jsonValue(bound), "ring_bound_bus_bytes_per_s": jsonValue(boundBus),
                         "fraction_of_bound": jsonValue(bound.map { $0 / secs }), "ranks": p])
        }
        var small = [0.0]
        let smallSecs = small.withUnsafeMutableBufferPointer { buf in
            median(comm, repeats: max(50, 20 * plan.repeats)) { comm.allreduceSum(buf.baseAddress!, count: 1) }
        }
        let rounds = ceil(log2(Double(p)))
        say(table.render())
        say("  ring bound on one node (ScalingModel.ringAllreduceSeconds): t ≥ (p−1)·S·(3/B_triad + 2/B_copy), with the all-ranks STREAM rates above:")
        say("  each reduce-scatter step reads a peer's chunk and its own and writes the sum (triad traffic), each allgather")
        say("  step copies a chunk (copy traffic). It assumes single-copy transfers, buffers larger than the caches (the")
        say("  L3 holds a small model's gradient, which can then beat it) and memory as the only limit; latency is not in it.")
        if memory == nil { say("  (no bound: the memory section was not run)") }
        say("  4 MiB buckets: the trainer's non-blocking MPI_Iallreduce per bucket (OpenMPI's libnbc), all started at once, then waited for.")
        say("  8-byte allreduce: \(formatSeconds(smallSecs)) → latency α ≈ \(formatSeconds(smallSecs / rounds)) per round (⌈log₂ p⌉ = \(Int(rounds)) rounds)")
        return ["gradients": rows, "small_allreduce_seconds": smallSecs, "latency_seconds": smallSecs / rounds, "ranks": p]
    }

    /// `x`, or JSON null.
    func jsonValue<T>(_ x: T?) -> Any { x.map { $0 as Any } ?? NSNull() }

    /// The 1-minute load average from /proc/loadavg.
    static func loadAverage() -> Double? {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.flatMap { Double($0) }
    }

    /// User + system CPU seconds of this process so far (all its threads).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    /// "model name" from /proc/cpuinfo, or "unknown CPU".
    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let value = line.split(separator: ":", maxSplits: 1).last else { return "unknown CPU" }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
