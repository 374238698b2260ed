import Foundation
import Model
import Selection
import Training

/// What one `sift bench` run measures, after `--quick` is applied.
public struct BenchPlan: Sendable {
    /// The benchmark sections run by default, in the order they run.
    public static let sectionNames = ["memory", "sgemm", "step", "allreduce"]
    /// Sections run only when named in `--only` (after the step section): `profile`, the vanilla step's
    /// time per kernel kind, and `fidelity`, each scoring path's ranking against the exact loss on a
    /// trained model and real data (`--model`, `--data`).
    public static let optionalSectionNames = ["profile", "fidelity"]
    /// Model sizes of the default (and `--quick`'s reduced) run.
    public static let defaultConfigs = ["tiny", "mini", "small", "medium", "base"]

    public var names: [String]
    /// Samples backpropagated per step on one rank, per model size.
    public var batch: [String: Int]
    public var repeats: Int
    public var sections: Set<String>
    /// OpenBLAS thread counts of the sgemm table.
    public var threadCounts: [Int]
    public var vocabSize: Int
    public var seqLen: Int
    public var selectFraction: Double
    /// Exit layers of the SIFT step: numbers or "mid", comma-separated.
    public var exitLayers: String
    /// Masked positions a candidate is scored from (0: all), one SIFT row per value and exit layer.
    public var scorePositions: [Int]
    /// Whether the training forward resumes from the scoring forward (`--reuse-scoring-forward`), one
    /// SIFT row per value.
    public var reuse: [Bool]
    /// Classes the scoring head computes (`--score-vocabulary`; 0: all), one SIFT row per value.
    public var scoreVocabularies: [Int]
    public var quick: Bool

    /// - Parameters:
    ///   - configs: model sizes; with `quick` and the default list, tiny, mini and base.
    ///   - threads: sgemm thread counts (default: 1 up to the cores).
    public init(
        configs: [String], vocabSize: Int, seqLen: Int, batchSize: Int, selectFraction: Double,
        exitLayers: String, scorePositions: [Int] = [0], reuse: [Bool] = [false], scoreVocabularies: [Int] = [0], repeats: Int,
        sections: [String], threads: [Int]?, quick: Bool
    ) {
        names = quick && configs == Self.defaultConfigs ? ["tiny", "mini", "base"] : configs.map { $0.lowercased() }
        var batch: [String: Int] = [:]
        for n in names {
            // Quick mode keeps BERT-base to a few samples: one forward+backward of b = 4 takes seconds.
            batch[n] = quick ? min(batchSize, n == "base" ? 4 : 16) : batchSize
        }
        self.batch = batch
        let cores = ProcessInfo.processInfo.activeProcessorCount
        threadCounts = Array(Set(threads ?? Array(1...max(1, cores)))).sorted()
        self.repeats = quick ? 2 : repeats
        self.sections = Set(sections)
        self.vocabSize = vocabSize
        self.seqLen = seqLen
        self.selectFraction = selectFraction
        self.exitLayers = exitLayers
        self.scorePositions = scorePositions.isEmpty ? [0] : scorePositions
        self.reuse = reuse.isEmpty ? [false] : reuse
        self.scoreVocabularies = scoreVocabularies.isEmpty ? [0] : scoreVocabularies
        self.quick = quick
    }

    /// The model of size `name` at this plan's vocabulary.
    public func config(_ name: String) -> BertConfig { BertConfig.named(name, vocabSize: vocabSize)! }

    /// Exit layers for `config`: the requested ones ('mid' = max(2, L/2)), clamped to 1…L, deduplicated.
    public func exits(for config: BertConfig) -> [Int] {
        let L = config.numLayers
        let requested = exitLayers.split(separator: ",").map { $0 == "mid" ? max(2, L / 2) : Int($0) ?? 1 }
        return Array(Set(requested.map { min(max(1, $0), L) })).sorted()
    }

    /// Why the trainer steps this plan times would not fit this machine's memory, or nil: per model size,
    /// `MemoryEstimate` of its largest step (SIFT at the largest exit layer over every class, the plan's
    /// b per rank and ρ, keeping the scoring activations when any row reuses them) for `ranksHere` of
    /// `ranks` ranks on a machine of `physicalBytes`. Only the step, profile and fidelity sections build
    /// trainers; BERT-large's step needs several GiB per rank.
    public func memoryProblem(ranks: Int, ranksHere: Int, physicalBytes: UInt64) -> String? {
        guard !sections.isDisjoint(with: ["step", "profile", "fidelity"]) else { return nil }
        for name in names {
            let config = config(name)
            // The largest step the plan times for this size: SIFT, scoring at its deepest exit.
            let o = stepOptions(
                policy: .sift, exitLayer: exits(for: config).last ?? 1, perRankBatch: batch[name]!, ranks: ranks,
                reuse: reuse.contains(true))
            let estimate = MemoryEstimate(options: o, config: config, seqLen: seqLen, ranks: ranks)
            if estimate.totalBytes * Double(max(ranksHere, 1)) > Double(physicalBytes) {
                let here = ranksHere > 1 ? " × \(ranksHere) ranks on this machine" : ""
                return "model size \(name) needs \(estimate.description)\(here), more than this machine's "
                    + String(format: "%.1f GiB of memory; ", Double(physicalBytes) / Double(1 << 30))
                    + "leave it out of --configs, or lower --batch-size or the ranks per machine"
            }
        }
        return nil
    }

    /// The options of one timed trainer step (`Bench.trainerStep`), from which `memoryProblem` also estimates
    /// the step's memory, so that the two cannot drift apart: `perRankBatch` samples backpropagated per rank
    /// (global b = perRankBatch × ranks, no accumulation), the plan's ρ, SIFT from the first step.
    func stepOptions(
        policy: SelectionPolicy, exitLayer: Int, perRankBatch: Int, ranks: Int, reuse: Bool,
        scorePositions: Int = 0, scoreVocabulary: Int = 0, denseLastLayer: Bool = false
    ) -> TrainingOptions {
        var o = TrainingOptions()
        o.denseLastLayer = denseLastLayer
        o.policy = policy
        o.batchSize = perRankBatch * ranks
        o.microBatch = perRankBatch
        o.selectFraction = selectFraction
        o.exitLayer = exitLayer
        o.scorePositions = scorePositions
        o.reuseScoringForward = reuse
        o.scoreVocabulary = scoreVocabulary
        o.siftDelay = 0
        return o
    }

    var settingsReport: BenchSettingsReport {
        BenchSettingsReport(
            configs: names, vocabSize: vocabSize, seqLen: seqLen, batchSize: batch,
            selectFraction: selectFraction, exitLayers: exitLayers, repeats: repeats, quick: quick)
    }
}
