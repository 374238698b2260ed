import Foundation

// The JSON that `sift bench --json`, `sift project --json`, `sift scaling-summary` (launch/scaling.sh)
// and `sift project --check/--bench/--scaling` write and read. Keys are the Swift names in
// snake_case (`JSONCoding`); optional fields are absent when not measured.

/// Encoders and decoders with the reports' key style.
public enum JSONCoding {
    /// Pretty-printed, sorted keys, snake_case.
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }

    /// Reads a report, or throws `PerformanceError.unreadable` naming the file and `expected`.
    public static func read<T: Decodable>(_ type: T.Type, from path: String, expected: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else { throw PerformanceError.unreadable("cannot read \(path)") }
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw PerformanceError.unreadable("\(path) is not \(expected): \(describe(error))")
        } catch {
            throw PerformanceError.unreadable("\(path) is not \(expected)")
        }
    }

    /// One line naming what a decoder missed: the JSON key path and what was wrong there.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.isEmpty ? "the top level" : keys.enumerated().map { i, k in
                k.intValue.map { "[\($0)]" } ?? (i == 0 ? k.stringValue : "." + k.stringValue) }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "no \"\(key.stringValue)\" in \(path(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unexpected value at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(context.codingPath))"
        @unknown default:
            return "undecodable"
        }
    }

    /// Writes a report atomically.
    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        do {
            try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw PerformanceError.unreadable("cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// Why a measurement file could not be used; the description is a one-line message.
public enum PerformanceError: Error, CustomStringConvertible {
    case unreadable(String)
    case missing(String)

    public var description: String {
        switch self {
        case .unreadable(let m), .missing(let m): return m
        }
    }
}

/// STREAM copy and triad rates, bytes/s.
public struct StreamRates: Codable, Sendable {
    public var copyBytesPerS: Double
    public var triadBytesPerS: Double
    public init(copyBytesPerS: Double, triadBytesPerS: Double) {
        self.copyBytesPerS = copyBytesPerS
        self.triadBytesPerS = triadBytesPerS
    }
}

/// Aggregate STREAM rates: rank 0 alone, and all ranks streaming at once.
public struct MemoryReport: Codable, Sendable {
    public var arrayBytes: Int?
    public var ranksTogether: Int?
    public var rank0Alone: StreamRates?
    public var allRanks: StreamRates
}

/// The machine a benchmark ran on.
public struct MachineReport: Codable, Sendable {
    public var cpu: String
    public var cores: Int
    public var ranks: Int
    public var openblasThreadsPerRank: Int
    public var memoryGib: Double
    public var date: String
    public var loadAverageAtStart: Double?
}

/// `sift bench`'s settings after `--quick` is applied.
public struct BenchSettingsReport: Codable, Sendable {
    public var configs: [String]
    public var vocabSize: Int
    public var seqLen: Int
    public var batchSize: [String: Int]
    public var selectFraction: Double
    public var exitLayers: String
    public var repeats: Int
    public var quick: Bool
}

/// One sgemm measurement.
public struct SgemmRow: Codable, Sendable {
    public var config: String
    public var product: String
    public var m: Int, k: Int, n: Int
    public var threads: Int
    public var ranksAtOnce: Int
    public var gflops: Double
}

/// One timed training step (vanilla, or SIFT at an exit layer).
public struct StepRow: Codable, Sendable {
    public var config: String
    /// "vanilla" or "sift".
    public var step: String
    public var exitLayer: Int?
    /// Masked positions per candidate the scoring used (nil: all).
    public var scorePositions: Int?
    /// Whether the training forward resumed from the scoring forward (nil for vanilla).
    public var reuseScoringForward: Bool?
    /// Classes the scoring head computed (`--score-vocabulary`; nil: all).
    public var scoreVocabulary: Int?
    public var batch: Int
    public var pool: Int?
    public var seconds: Double
    public var forwardBackwardSeconds: Double
    public var optimizerSeconds: Double
    public var scoringSeconds: Double?
    public var tokensPerSPerRank: Double
    public var tokensPerSAllRanks: Double
    /// Dense-equivalent matmul FLOPs of the step (every layer at every position; `gflops` and `mfu` use it).
    public var flops: Double
    /// Matmul FLOPs the engine executed: the layer only the head reads at the masked positions only.
    public var executedFlops: Double?
    public var gflops: Double
    public var mfu: Double?
    /// Vanilla rows: the same step with `--dense-last-layer` (the last layer at every position), seconds.
    public var denseLastLayerSeconds: Double?
    public var scoringShare: Double?
    public var predictedScoringShare: Double?
    public var overhead: Double?
    public var predictedOverhead: Double?
    public var ranks: Int
    public var threadsPerRank: Int
    public var vocabSize: Int
    public var seqLen: Int
}

/// The verdict on one of SIFT's overhead targets: at exit layer 1 and ρ = 0.5, on the scoring path
/// `sift train --policy sift` takes by default, a SIFT step costs at most `limit` more than a vanilla
/// step (BERT-base ≤ +5%, BERT-mini ≤ +10%).
public struct SiftTarget: Codable, Sendable {
    public var config: String
    public var exitLayer: Int
    public var selectFraction: Double
    public var batch: Int
    /// Classes of the scoring head (nil: the whole vocabulary) and the vocabulary size, which the mini
    /// target names (V 30522 and V 8192).
    public var scoreVocabulary: Int?
    public var vocabSize: Int
    /// SIFT step time / vanilla step time − 1, both measured in this run back to back; the verdict.
    public var overhead: Double
    /// The overhead the FLOP count predicts (matrix products only), printed beside the verdict as a check
    /// on a noisy measurement.
    public var predictedOverhead: Double
    public var limit: Double
    /// `overhead <= limit`.
    public var met: Bool
}

/// One configuration's gradient allreduce.
public struct AllreduceRow: Codable, Sendable {
    public var config: String
    public var bytes: Double
    public var seconds: Double
    public var busBytesPerS: Double
    public var bucketedSeconds: Double?
    public var bucketedBusBytesPerS: Double?
    public var buckets: Int?
    public var ringBoundSeconds: Double?
    public var ringBoundBusBytesPerS: Double?
    public var fractionOfBound: Double?
    public var ranks: Int
}

/// The allreduce section: per-configuration rows and the small-message latency.
public struct AllreduceReport: Codable, Sendable {
    public var gradients: [AllreduceRow]
    public var smallAllreduceSeconds: Double
    public var latencySeconds: Double
    public var ranks: Int
    /// OpenMPI's `coll_libnbc_iallreduce_algorithm` in this run, the algorithm of the bucketed rows
    /// (0: libnbc's own choice, 1 ring, 2 binomial tree, 3 Rabenseifner, 4 recursive doubling).
    public var iallreduceAlgorithm: Int?
}

/// How well one scoring path ranks candidates like the exact loss (`sift bench --only fidelity`).
public struct FidelityRow: Codable, Sendable {
    public var exitLayer: Int
    /// Masked positions per candidate the path scores (nil: all).
    public var scorePositions: Int?
    /// Scored with the training forward's dropout, as `--reuse-scoring-forward` scores.
    public var reuseScoringForward: Bool
    /// Classes the path's head computes (`--score-vocabulary`; nil: all).
    public var scoreVocabulary: Int?
    public var pools: Int
    /// Mean Spearman correlation with the exact loss over the pools (nil if no pool had spread).
    public var spearman: Double?
    /// Mean share of the path's top b that is in the exact top b.
    public var topOverlap: Double
    /// The same path's SIFT step overhead over vanilla from this run's step table, for `overheadConfig`.
    public var overhead: Double?
    public var overheadConfig: String?
}

/// Everything `sift bench --json` writes; sections that were not run are absent.
public struct BenchReport: Codable, Sendable {
    public var machine: MachineReport?
    public var settings: BenchSettingsReport?
    public var memory: MemoryReport?
    public var sgemm: [SgemmRow]?
    public var sgemmPeakGflops: Double?
    public var steps: [StepRow]?
    /// One verdict per measured target (base, mini); empty when neither was measured with the default
    /// scoring path at exit 1 and ρ = 0.5.
    public var siftTargets: [SiftTarget]?
    public var allreduce: AllreduceReport?
    /// The vanilla step per kernel kind (`--only …,profile`).
    public var profile: [ProfileRow]?
    /// Each scoring path's fidelity to the exact loss on a trained model and real data (`--only …,fidelity`).
    public var fidelity: [FidelityRow]?
    public var lowestCpuShareOfWallTime: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case machine, settings, memory, sgemm, sgemmPeakGflops, steps, siftTargets, allreduce, profile, fidelity, lowestCpuShareOfWallTime
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(machine, forKey: .machine)
        try c.encodeIfPresent(settings, forKey: .settings)
        try c.encodeIfPresent(memory, forKey: .memory)
        try c.encodeIfPresent(sgemm, forKey: .sgemm)
        try c.encodeIfPresent(sgemmPeakGflops, forKey: .sgemmPeakGflops)
        try c.encodeIfPresent(steps, forKey: .steps)
        try c.encodeIfPresent(siftTargets, forKey: .siftTargets)
        try c.encodeIfPresent(allreduce, forKey: .allreduce)
        try c.encodeIfPresent(profile, forKey: .profile)
        try c.encodeIfPresent(fidelity, forKey: .fidelity)
        try c.encodeIfPresent(lowestCpuShareOfWallTime, forKey: .lowestCpuShareOfWallTime)
    }
}

/// One `sift train` run of launch/scaling.sh, summarised from its metrics file.
public struct ScalingRun: Codable, Sendable {
    /// "weak" or "strong".
    public var mode: String
    /// "vanilla" or "sift".
    public var policy: String
    public var ranks: Int
    public var batchSize: Int
    public var perRankBatch: Int?
    public var selectFraction: Double?
    public var exitLayer: Int?
    public var poolSize: Int?
    public var stepsTimed: Int?
    /// Wall-clock seconds per step (the slowest rank's), averaged over the timed steps.
    public var stepSeconds: Double
    public var samplesPerSecond: Double?
    /// Rank 0's mean time split per step, seconds, by phase name (`PhaseTimes` keys).
    public var times: [String: Double]
    public var oversubscribed: Bool?
    public var coresUsed: Int?
    public var efficiency: Double?
    public var computeSeconds: Double?
    public var communicationSeconds: Double?
    public var waitingSeconds: Double?
}

/// launch/scaling.sh's measurements (DIR/scaling.json), the input of `sift project --check`.
public struct ScalingMeasurements: Codable, Sendable {
    public var config: String
    public var vocabSize: Int
    public var seqLen: Int?
    public var cores: Int
    public var threadsPerRank: Int?
    public var bucketMb: Double?
    public var microBatch: Int?
    public var steps: Int?
    public var perRankBatch: Int?
    public var globalBatch: Int?
    public var date: String?
    public var memory: MemoryReport?
    public var latencySeconds: Double?
    public var allreduce: [AllreduceRow]?
    public var machine: MachineReport?
    /// The bench run's CPU share (below 0.8: other processes competed for the cores).
    public var lowestCpuShareOfWallTime: Double?
    public var runs: [ScalingRun]
}

/// One row of `sift project`'s projection.
public struct ProjectionRow: Codable, Sendable {
    public var policy: String
    public var nodes: Int
    public var globalBatch: Int
    public var computeSeconds: Double
    public var scoringSeconds: Double
    public var allreduceSeconds: Double
    public var exposedAllreduceWithOverlapSeconds: Double
    public var selectionExchangeSeconds: Double
    public var synchronisationSeconds: Double
    public var stepSecondsOverlap: Double
    public var stepSecondsNoOverlap: Double
    public var samplesPerSecondOverlap: Double
    public var samplesPerSecondNoOverlap: Double
    public var efficiencyOverlap: Double
    public var efficiencyNoOverlap: Double
}

/// The interconnect a projection assumed.
public struct InterconnectReport: Codable, Sendable {
    public var name: String
    public var bandwidthGbps: Double
    public var latencyUs: Double
}

/// The per-node compute times a projection assumed, and where they came from.
public struct ComputeReport: Codable, Sendable {
    public var forwardBackwardSecondsPerSample: Double
    public var scoringSecondsPerSample: Double
    public var optimizerSecondsPerStep: Double
    public var dataSecondsPerSample: Double
    public var source: String
}

/// Everything `sift project --json` writes.
public struct ProjectionReport: Codable, Sendable {
    public var config: String
    public var vocabSize: Int
    public var gradientBytes: Double
    public var tailBytes: Double
    public var buckets: Int
    public var tailBuckets: Int
    public var interconnect: InterconnectReport
    public var compute: ComputeReport
    /// "weak" or "strong".
    public var scaling: String
    public var batch: Int
    public var selectFraction: Double
    public var exitLayer: Int
    public var rows: [ProjectionRow]
    /// SIFT's two selection exchanges at each node count (optional: absent in older files).
    public var exchanges: [ExchangeRow]? = nil
}

/// The two selection exchanges of one SIFT step at one node count, and the pool from which the
/// threshold exchange is cheaper there (nil: not below 2⁴⁰ candidates, or one node).
public struct ExchangeRow: Codable, Sendable {
    public var nodes: Int
    public var pool: Int
    public var allgatherSeconds: Double
    public var thresholdSeconds: Double
    public var cheaper: String
    public var thresholdCheaperFromPool: Int?
}

/// One run of a scaling check: measured against predicted.
public struct CheckRow: Codable, Sendable {
    public var mode: String
    public var policy: String
    public var ranks: Int
    public var batchSize: Int
    public var measuredStepSeconds: Double
    public var predictedStepSeconds: Double
    public var relativeError: Double
    public var computeScale: Double
    public var predictedComputeSeconds: Double
    public var predictedCommunicationSeconds: Double
    public var measuredCommunicationAndWaitingSeconds: Double
    public var measuredComputeSeconds: Double
    public var predictedStepSecondsWithMeasuredAllreduce: Double?
    public var measuredEfficiency: Double
    public var predictedEfficiency: Double
}

/// Everything `sift project --check --json` writes.
public struct CheckReport: Codable, Sendable {
    public var check: String
    public var config: String
    public var vocabSize: Int
    public var rows: [CheckRow]
    public var meanAbsRelativeErrorMultiRank: Double?
    public var meanAbsRelativeErrorMultiRankWithMeasuredAllreduce: Double?
    public var allreduceFractionOfBound: Double?
}
