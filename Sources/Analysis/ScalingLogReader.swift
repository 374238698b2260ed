import Bench
import Core
import CostModel
import Foundation
import Selection

/// Summarises launch/scaling.sh's `sift train` runs (DIR/MODE-POLICY-pP.jsonl metrics files and the
/// `sift bench` measurement DIR/machine.json) into `ScalingMeasurements` and a Markdown table.
public struct ScalingLogReader {
    public var directory: String
    public var config: String
    public var vocabSize: Int
    public var cores: Int
    public var steps: Int
    public var perRankBatch: Int
    public var globalBatch: Int
    public var ranks: [Int]
    /// The selection fraction ρ the runs were given (`sift train --select-fraction`; the SIFT runs score b/ρ).
    public var selectFraction: Double

    public init(
        directory: String, config: String, vocabSize: Int, cores: Int, steps: Int, perRankBatch: Int,
        globalBatch: Int, ranks: [Int], selectFraction: Double
    ) {
        self.selectFraction = selectFraction
        self.directory = directory
        self.config = config
        self.vocabSize = vocabSize
        self.cores = cores
        self.steps = steps
        self.perRankBatch = perRankBatch
        self.globalBatch = globalBatch
        self.ranks = ranks
    }

    /// The phases of the trainer's time split (`PhaseTimes` keys in a metrics line).
    static let phases = ["data", "scoring", "selection", "forward_backward", "exposed_allreduce", "optimizer", "waiting"]

    /// The fields of a metrics line this summary reads.
    struct MetricsLine: Decodable {
        var step: Int
        var elapsed: Double
        var times: [String: Double]?
    }

    /// One run's mean step from its metrics file; the first step (warm-up) is not counted.
    func measure(mode: String, policy: SelectionPolicy, ranks p: Int) throws -> ScalingRun {
        let path = (directory as NSString).appendingPathComponent("\(mode)-\(policy.rawValue)-p\(p).jsonl")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ReportError.unreadable("cannot read \(path)") }
        let decoder = JSONDecoder()
        let records = text.split(separator: "\n").compactMap { try? decoder.decode(MetricsLine.self, from: Data($0.utf8)) }
            .filter { $0.times != nil }.sorted { $0.step < $1.step }
        guard records.count >= 2, let first = records.first, let last = records.last else {
            throw ReportError.missing("\(path) has fewer than two timed steps")
        }
        let timed = records.dropFirst()  // the first step warms caches and allocates workspaces
        let b = mode == "weak" ? perRankBatch * p : globalBatch
        let step = (last.elapsed - first.elapsed) / Double(timed.count)  // wall clock of the slowest rank
        var times: [String: Double] = [:]
        for k in Self.phases { times[k] = timed.reduce(0.0) { $0 + ($1.times?[k] ?? 0) } / Double(timed.count) }
        return ScalingRun(
            mode: mode, policy: policy, ranks: p, batchSize: b, perRankBatch: GlobalSelection.largestShare(poolSize: b, size: p),
            selectFraction: selectFraction, exitLayer: 1,
            poolSize: ScalingModel.poolSize(globalBatch: b, policy: ProjectedPolicy(policy, selectFraction: selectFraction)),
            stepsTimed: timed.count, stepSeconds: step, samplesPerSecond: Double(b) / step, times: times,
            oversubscribed: p > cores, coresUsed: min(p, cores),
            computeSeconds: times["data"]! + times["scoring"]! + times["forward_backward"]! + times["optimizer"]!,
            communicationSeconds: times["exposed_allreduce"]! + times["selection"]!, waitingSeconds: times["waiting"]!)
    }

    /// Reads every run and the machine measurement.
    public func measurements() throws -> ScalingMeasurements {
        let machine = try JSONCoding.read(
            BenchReport.self, from: (directory as NSString).appendingPathComponent("machine.json"),
            expected: "a `sift bench --json` file")
        var runs: [ScalingRun] = []
        for policy in [SelectionPolicy.vanilla, .sift] {
            for mode in ["weak", "strong"] {
                for p in ranks { runs.append(try measure(mode: mode, policy: policy, ranks: p)) }
            }
        }
        for i in runs.indices {
            // Weak: throughput_p / (p · throughput_1). Strong: speedup / p, the same ratio at a fixed batch.
            guard let one = runs.first(where: { $0.mode == runs[i].mode && $0.policy == runs[i].policy && $0.ranks == 1 }) else { continue }
            runs[i].efficiency = runs[i].samplesPerSecond! / (Double(runs[i].ranks) * one.samplesPerSecond!)
        }
        let date = ISO8601DateFormatter.string(
            from: Date(), timeZone: .current,
            formatOptions: [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate])
        return ScalingMeasurements(
            config: config, vocabSize: vocabSize, seqLen: 128, cores: cores, threadsPerRank: 1, bucketMb: 4,
            microBatch: 32, steps: steps, perRankBatch: perRankBatch, globalBatch: globalBatch, date: date,
            memory: machine.memory, latencySeconds: machine.allreduce?.latencySeconds,
            allreduce: machine.allreduce?.gradients, machine: machine.machine,
            lowestCpuShareOfWallTime: machine.lowestCpuShareOfWallTime, runs: runs)
    }

    /// The Markdown table of `m`'s runs, with the CPU-share warning if the machine was busy.
    public static func markdown(_ m: ScalingMeasurements) -> String {
        var lines = [
            "",
            "### Scaling, BERT-\(m.config), \((m.steps ?? 1) - 1) timed steps per run, \(m.cores) cores, "
                + "1 OpenBLAS thread per rank", ""
        ]
        lines.append(
            "weak: \(m.perRankBatch ?? 0) samples backpropagated per rank per step; strong: "
                + "\(m.globalBatch ?? 0) per step in all. SIFT at exit layer 1, ρ = "
                + (m.runs.first { $0.policy.selects }?.selectFraction.map { "\($0)" } ?? "—") + ". "
                + "samples/s = backpropagated samples per second (wall clock). Time split per step, rank 0, seconds: "
                + "compute = data + scoring + "
                + "forward/backward + optimizer; exposed comm = exposed allreduce + selection (loss exchange, incl. "
                + "waiting for the slowest scorer); "
                + "waiting = blocking small collectives (waiting for the slowest rank).")
        lines.append("")
        lines.append("| ranks | mode | policy | b | b/rank | step s | samples/s | efficiency | compute s | exposed comm s | waiting s |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in m.runs {
            let compute = r.computeSeconds ?? 0, comm = r.communicationSeconds ?? 0, waiting = r.waitingSeconds ?? 0
            let total = compute + comm + waiting
            func share(_ x: Double) -> String {
                total > 0 ? String(format: "%.3f (%.0f%%)", x, 100 * x / total) : String(format: "%.3f", x)
            }
            lines.append(
                "| \(r.ranks)\(r.oversubscribed == true ? " (oversubscribed)" : "") | \(r.mode) | \(r.policy.rawValue) | \(r.batchSize) | "
                    + "\(r.perRankBatch ?? 0) | \(String(format: "%.3f", r.stepSeconds)) | \(String(format: "%.1f", r.samplesPerSecond ?? 0)) | "
                    + "\(String(format: "%.0f%%", 100 * (r.efficiency ?? 0))) | \(share(compute)) | \(share(comm)) | \(share(waiting)) |")
        }
        if let share = m.lowestCpuShareOfWallTime, share < 0.8 {
            lines.append("")
            lines.append(
                "warning: during the memory/latency measurement a rank was on a CPU only \(String(format: "%.0f", 100 * share))% of the time: "
                    + "other processes competed for the cores; these numbers (and the check below) understate the machine")
        }
        return lines.joined(separator: "\n")
    }
}
