import Communication
import Core
import Foundation
import Kernels
import Model
import Selection
import Setup
import Training

/// The measurements of `sift bench`: the machine's limits (memory bandwidth, sgemm GFLOP/s per
/// thread count), training-step throughput and SIFT's scoring overhead per model size, and allreduce
/// bandwidth against the ring algorithm's bound on this machine's memory bandwidth. Every rank calls
/// `run` together; tables go to `say` (rank 0's standard output), the numbers into the report.
public struct Bench {
    public let plan: BenchPlan
    public let comm: Communicator
    public let say: (String) -> Void
    /// The trained model and data of the `fidelity` section (nil: the section cannot run).
    public var fidelitySource: FidelitySource?
    let idle = IdleClock()

    public init(plan: BenchPlan, communicator: Communicator, say: @escaping (String) -> Void) {
        self.plan = plan
        self.comm = communicator
        self.say = say
    }

    /// Runs the plan's sections on every rank at once and returns the report (complete on rank 0).
    /// - Throws: `SetupError` on every rank when a model size's step would not fit the memory of some rank's
    ///   machine (`BenchPlan.memoryProblem`), before anything model-sized is allocated.
    public func run() throws -> BenchReport {
        let problem = plan.memoryProblem(
            ranks: comm.size, ranksHere: MemoryEstimate.ranksOnThisMachine(comm.size),
            physicalBytes: ProcessInfo.processInfo.physicalMemory)
        // Machines may differ: every rank stops if any would run out, so no collective waits for a lost rank.
        if comm.allreduceMax(problem == nil ? 0 : 1) > 0 {
            throw SetupError(problem ?? "another rank's machine lacks the memory for these --configs (it names them)")
        }
        let started = Date()
        let rankThreads = BLAS.threads
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let load = MachineProbe.loadAverage()
        var report = BenchReport()
        report.machine = MachineReport(
            cpu: MachineProbe.cpuModel(), cores: cores, ranks: comm.size, openblasThreadsPerRank: rankThreads,
            memoryGib: Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30),
            date: ISO8601DateFormatter().string(from: Date()), loadAverageAtStart: load)
        report.settings = plan.settingsReport
        say(
            "sift bench — \(MachineProbe.cpuModel()), \(cores) cores, \(comm.size) rank(s) × \(rankThreads) OpenBLAS thread(s), "
                + "seq len \(plan.seqLen), vocab \(plan.vocabSize), ρ = \(plan.selectFraction)\(plan.quick ? " (quick)" : "")")
        if let load, load >= 1 {
            say(
                "note: 1-minute load average \(fmt(load, 2)) at start (it includes anything that just finished); if "
                    + "other processes are running, the rates below understate the machine")
        }
        if comm.size * rankThreads > cores {
            say("note: \(comm.size) ranks × \(rankThreads) threads exceed the \(cores) cores: rates below are shared-core rates")
        }
        if plan.sections.contains("memory") { report.memory = measureMemory() }
        if plan.sections.contains("sgemm") {
            let (rows, best) = measureSgemm(rankThreads: rankThreads)
            report.sgemm = rows
            report.sgemmPeakGflops = best
        }
        if plan.sections.contains("step") {
            let (rows, targets) = try measureSteps(peak: report.sgemmPeakGflops)
            report.steps = rows
            report.siftTargets = targets
        }
        if plan.sections.contains("profile") {
            report.profile = try measureProfile(peak: report.sgemmPeakGflops, memory: report.memory)
        }
        if plan.sections.contains("fidelity") {
            if let source = fidelitySource {
                report.fidelity = try measureFidelity(source, steps: report.steps)
            } else {
                say("\nfidelity: skipped (needs --model and --data)")
            }
        }
        if plan.sections.contains("allreduce") {
            if comm.size > 1 {
                report.allreduce = measureAllreduce(memory: report.memory)
            } else {
                say("\nallreduce: skipped (one rank; run under launch/mpirun.sh -np 2 or more)")
            }
        }
        // How much of its busy wall time (not counting quiet waits while rank 0 measured alone) this
        // rank was on a CPU: well below 1 means it waited for cores that other processes held.
        let busy = max(1e-9, Date().timeIntervalSince(started) - idle.seconds)
        let cpuShare = -comm.allreduceMax(-MachineProbe.cpuSeconds() / busy)
        report.lowestCpuShareOfWallTime = cpuShare
        if cpuShare < 0.8 {
            say(
                "\nwarning: a rank was on a CPU only \(pct(cpuShare, 0)) of the wall time: other processes competed "
                    + "for the cores, so these rates understate the machine")
        }
        return report
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

    /// Median seconds of `repeats` runs of `body` after one warm-up run. With `comm` every rank runs
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
    func measureMemory() -> MemoryReport {
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
            all = (
                Double(comm.size) * arrays.copyBytes / best(arrays.copy, together: true),
                Double(comm.size) * arrays.triadBytes / best(arrays.triad, together: true)
            )
        }
        if arrays.checksum.isNaN { say("(checksum)") }
        say(
            "\nmemory bandwidth — STREAM copy a=b and triad a=b+s·c on 3 × \((elements * 4) >> 20) MiB float arrays "
                + "per rank, best of \(passes), STREAM byte counting")
        var table = TextTable(["streaming", "copy GB/s", "triad GB/s"])
        table.add(["rank 0 alone", fmt(alone.copy / 1e9, 1), fmt(alone.triad / 1e9, 1)])
        if comm.size > 1 { table.add(["\(comm.size) ranks at once (sum)", fmt(all.copy / 1e9, 1), fmt(all.triad / 1e9, 1)]) }
        say(table.render())
        return MemoryReport(
            arrayBytes: elements * 4, ranksTogether: comm.size,
            rank0Alone: StreamRates(copyBytesPerS: alone.copy, triadBytesPerS: alone.triad),
            allRanks: StreamRates(copyBytesPerS: all.copy, triadBytesPerS: all.triad))
    }

    // MARK: - sgemm

    /// The matrix products of one training step of `config` on `tokens` rows, as (label, m, k, n):
    /// C[m, n] = A[m, k] · W[n, k]ᵀ, the shape of every linear layer's forward.
    public static func productShapes(_ c: BertConfig, tokens: Int) -> [(String, Int, Int, Int)] {
        let masked = max(1, Int((Double(tokens) * 0.15).rounded()))
        return [
            ("Q/K/V/attn-out", tokens, c.hiddenSize, c.hiddenSize),
            ("FFN in", tokens, c.hiddenSize, c.intermediateSize),
            ("FFN out", tokens, c.intermediateSize, c.hiddenSize),
            ("MLM decoder", masked, c.hiddenSize, c.vocabSize)
        ]
    }

    /// sgemm GFLOP/s at each configuration's shapes: rank 0 alone at each thread count (the others wait
    /// without spinning), then every rank at once at its own thread count. Returns the rows and the
    /// peak rate for MFU: the best rate under the steps' conditions (all ranks at once at the ranks'
    /// thread count, or one rank at its thread count).
    func measureSgemm(rankThreads: Int) -> ([SgemmRow], Double) {
        var rows: [SgemmRow] = []
        var peak = 0.0
        let together = comm.size > 1
        let header =
            ["config", "product", "m × k → n"] + plan.threadCounts.map { "\($0) thread\($0 == 1 ? "" : "s")" }
            + (together ? ["\(comm.size) ranks × \(rankThreads) thr, per rank"] : [])
        var table = TextTable(header, alignments: [.left, .left, .left] + Array(repeating: .right, count: header.count - 3))
        var seen = Set<String>()
        var bestByThreads = [Int: Double]()
        for name in plan.names {
            for (label, m, k, n) in Self.productShapes(plan.config(name), tokens: plan.batch[name]! * plan.seqLen) {
                let key = "\(m)x\(k)x\(n)"
                if seen.contains(key) { continue }
                seen.insert(key)
                var cells = [name, label, "\(m) × \(k) → \(n)"]
                for t in plan.threadCounts {
                    var g = 0.0
                    if comm.isRoot {
                        BLAS.threads = t
                        g = sgemmGFLOPs(m: m, k: k, n: n, comm: nil)
                        rows.append(
                            SgemmRow(config: name, product: label, m: m, k: k, n: n, threads: BLAS.threads, ranksAtOnce: 1, gflops: g))
                        bestByThreads[t] = max(bestByThreads[t] ?? 0, g)
                        BLAS.threads = rankThreads
                    }
                    idle.wait(comm)
                    cells.append(fmt(g, 1))
                }
                if together {
                    let g = sgemmGFLOPs(m: m, k: k, n: n, comm: comm)
                    rows.append(
                        SgemmRow(config: name, product: label, m: m, k: k, n: n, threads: rankThreads, ranksAtOnce: comm.size, gflops: g))
                    peak = max(peak, g)
                    cells.append(fmt(g, 1))
                }
                table.add(cells)
            }
        }
        if !together { peak = bestByThreads[rankThreads] ?? bestByThreads.values.max() ?? 0 }
        say("\nsgemm C = A·Wᵀ (OpenBLAS), GFLOP/s, median of \(plan.repeats); m = b·T tokens (decoder: the 15% masked rows)")
        say(table.render())
        say(
            "  peak for MFU: \(fmt(peak, 1)) GFLOP/s (best rate with \(together ? "\(comm.size) ranks × \(rankThreads) thread(s) at once, per rank" : "\(rankThreads) thread(s)"))"
        )
        return (rows, peak)
    }

    /// GFLOP/s of C = A·Wᵀ at (m, k, n); the slowest rank's median if `comm` is given.
    func sgemmGFLOPs(m: Int, k: Int, n: Int, comm: Communicator?) -> Double {
        let a = FloatBuffer(count: m * k), w = FloatBuffer(count: n * k), c = FloatBuffer(count: m * n)
        for i in 0..<a.count { a[i] = Float(i % 13) * 0.01 }
        for i in 0..<w.count { w[i] = Float(i % 7) * 0.01 }
        let secs = median(comm, repeats: plan.repeats) {
            BLAS.gemm(transposeB: true, m: m, n: n, k: k, a: a.pointer, lda: k, b: w.pointer, ldb: k, c: c.pointer, ldc: n)
        }
        return 2 * Double(m) * Double(n) * Double(k) / secs / 1e9
    }
}
