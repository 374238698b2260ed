import ArgumentParser
import Communication
import Foundation
import Kernels
import Model
import Selection

/// `sift bench`: the machine's sgemm limit, step throughput and SIFT overhead per model size, and
/// allreduce bandwidth, as one table (and JSON).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure sgemm GFLOP/s, training-step throughput, SIFT's scoring overhead and allreduce bandwidth.",
        discussion: """
        FLOPs count matrix products only (2·m·n·k each), with the MLM head on masked positions only and \
        backward as twice the forward's products. Model FLOPs utilisation (MFU) divides achieved GFLOP/s \
        by the best sgemm rate measured here at the base model's shapes. Run under \
        mpirun with 2+ ranks to also measure allreduce bandwidth.
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
    @Option(help: "Comma-separated exit layers for the SIFT step (clamped to the model's layers).")
    var exitLayers: String = "1,2"
    @Option(help: "Timed repetitions per measurement (after one warm-up).")
    var repeats: Int = 3
    @Flag(help: "A run under two minutes: tiny and mini only, batch 16, two repetitions.")
    var quick = false
    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    func validate() throws {
        for c in configs.split(separator: ",") where BertConfig.named(String(c), vocabSize: vocabSize) == nil {
            throw ValidationError("unknown model size '\(c)'")
        }
        guard selectFraction > 0 && selectFraction <= 1 else { throw ValidationError("--select-fraction must be in (0, 1]") }
        guard batchSize >= 1, repeats >= 1, seqLen >= 8, seqLen <= 512 else { throw ValidationError("sizes must be positive, seq-len in 8...512") }
    }

    func run() throws {
        let comm = try Communicator()
        let names = quick ? ["tiny", "mini"] : configs.split(separator: ",").map(String.init)
        let b = quick ? min(batchSize, 16) : batchSize
        let reps = quick ? 2 : repeats
        let exits = exitLayers.split(separator: ",").compactMap { Int($0) }
        var results: [[String: Any]] = []
        let say: (String) -> Void = { if comm.isRoot { print($0); fflush(stdout) } }

        say("sift bench — \(ProcessInfo.processInfo.processorCount) cores, \(comm.size) rank(s), OpenBLAS threads \(BLAS.threads), seq len \(seqLen), b = \(b), ρ = \(selectFraction)")
        // 1. The machine's limit: sgemm at the base model's shapes.
        say("\nsgemm (tokens × in → out), GFLOP/s by thread count")
        let tokens = b * seqLen
        var bestRate = 0.0
        let maxThreads = max(1, BLAS.threads)
        for (m, k, n) in [(tokens, 768, 768), (tokens, 768, 3072), (tokens, 3072, 768)] {
            var line = String(format: "  %5d × %4d → %4d:", m, k, n)
            for t in Set([1, maxThreads]).sorted() {
                BLAS.threads = t
                let g = sgemmGFLOPs(m: m, k: k, n: n, repeats: reps)
                line += String(format: "  %d thr %7.1f", t, g)
                bestRate = max(bestRate, g)
                results.append(["kind": "sgemm", "m": m, "k": k, "n": n, "threads": t, "gflops": g])
            }
            say(line)
        }
        BLAS.threads = maxThreads
        // Two threads can be no faster than one on a VM whose vCPUs share a core: the limit is the best rate seen.
        let limit = bestRate

        // 2. Step throughput and SIFT overhead.
        say("\nstep throughput (one rank, \(maxThreads) thread(s)); MFU against \(String(format: "%.1f", limit)) GFLOP/s sgemm")
        say("  model   step                 s/step   tokens/s   GFLOP/s   MFU    scoring share  predicted")
        for name in names {
            let config = BertConfig.named(name, vocabSize: vocabSize)!
            let model = BertForMaskedLM(config: config, seed: 1)
            let train = syntheticBatch(count: b, seqLen: seqLen, vocab: vocabSize, salt: 1)
            let masked = train.maskedTokenCount
            let trainFLOPs = BertForMaskedLM.trainingFLOPs(config: config, batch: b, seqLen: seqLen, maskedTokens: masked)
            let vanilla = time(reps) { model.gradients.zero(); _ = model.forwardBackward(train, lossWeight: 1 / Float(masked), dropoutSeed: 7) }
            let row: (String, Double, Double, Double?, Double?) -> Void = { label, secs, flops, share, predicted in
                let g = flops / secs / 1e9
                say(String(format: "  %-7@ %-20@ %7.3f %10.0f %9.1f %5.1f%%", name, label, secs, Double(b * seqLen) / secs, g, 100 * g / limit)
                    + (share.map { String(format: "   %6.1f%%      %6.1f%%", 100 * $0, 100 * (predicted ?? 0)) } ?? ""))
                results.append(["kind": "step", "config": name, "step": label, "seconds": secs, "tokens_per_s": Double(b * seqLen) / secs,
                                "gflops": g, "mfu": g / limit, "scoring_share": share as Any, "predicted_scoring_share": predicted as Any])
            }
            row("vanilla", vanilla, trainFLOPs, nil, nil)
            let poolSize = Int((Double(b) / selectFraction).rounded())
            let pool = syntheticBatch(count: poolSize, seqLen: seqLen, vocab: vocabSize, salt: 2)
            for exit in Set(exits.map { min(max(1, $0), config.numLayers) }).sorted() {
                let scoreFLOPs = BertForMaskedLM.scoringFLOPs(config: config, exitLayer: exit, batch: poolSize, seqLen: seqLen,
                                                              maskedTokens: pool.maskedTokenCount)
                let scoring = time(reps) { _ = model.approximateLosses(pool, exitLayer: exit) }
                let step = scoring + vanilla
                row("sift exit \(exit)", step, trainFLOPs + scoreFLOPs, scoring / step, scoreFLOPs / (trainFLOPs + scoreFLOPs))
            }
        }

        // 3. Allreduce bandwidth for each configuration's gradient size.
        if comm.size > 1 {
            say("\nallreduce (in place, float32), \(comm.size) ranks; bus bandwidth = 2(p-1)/p · bytes / time")
            for name in names {
                let count = ParameterLayout(config: BertConfig.named(name, vocabSize: vocabSize)!).totalCount
                let buffer = FloatBuffer(count: count)
                comm.barrier()
                let secs = time(reps) { comm.allreduceSum(buffer.pointer, count: count); comm.barrier() }
                let bytes = Double(count * 4)
                let busGBs = 2 * Double(comm.size - 1) / Double(comm.size) * bytes / secs / 1e9
                say(String(format: "  %-7@ %8.1f MB  %8.3f s  %6.2f GB/s bus bandwidth", name, bytes / 1e6, secs, busGBs))
                results.append(["kind": "allreduce", "config": name, "bytes": bytes, "seconds": secs, "bus_gb_per_s": busGBs, "ranks": comm.size])
            }
        }
        if comm.isRoot, let json {
            let data = try JSONSerialization.data(withJSONObject: ["results": results], options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json), options: .atomic)
        }
        comm.finalize()
    }

    /// Median seconds of `repeats` runs after one warm-up run.
    func time(_ repeats: Int, _ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        }
        return samples.sorted()[samples.count / 2]
    }

    func sgemmGFLOPs(m: Int, k: Int, n: Int, repeats: Int) -> Double {
        let a = FloatBuffer(count: m * k), w = FloatBuffer(count: n * k), c = FloatBuffer(count: m * n)
        for i in 0..<a.count { a[i] = Float(i % 13) * 0.01 }
        for i in 0..<w.count { w[i] = Float(i % 7) * 0.01 }
        let secs = time(repeats) {
            BLAS.gemm(transposeB: true, m: m, n: n, k: k, a: a.pointer, lda: k, b: w.pointer, ldb: k, c: c.pointer, ldc: n)
        }
        return 2 * Double(m) * Double(n) * Double(k) / secs / 1e9
    }

    /// Random token ids with 15% of positions masked (labels set), keyed by `salt`.
    func syntheticBatch(count: Int, seqLen: Int, vocab: Int, salt: UInt64) -> MLMBatch {
        var batch = MLMBatch(count: count, seqLen: seqLen)
        for i in 0..<(count * seqLen) {
            let r = CounterHash.bits(salt, 0xBE7C, UInt64(i), 0)
            batch.inputIds[i] = Int32(5 + Int(r % UInt64(vocab - 5)))
            if (r >> 40) % 100 < 15 { batch.labels[i] = batch.inputIds[i]; batch.inputIds[i] = 4 }
        }
        return batch
    }
}
