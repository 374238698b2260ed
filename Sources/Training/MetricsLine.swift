import Foundation

/// One line of the `--metrics` JSON Lines file (schema: docs/METRICS.md): a finished step (`StepLine`) or
/// the run's closing evaluation (`FinalLine`). Numbers are rounded as documented, so that the file stays
/// short and a rerun's lines compare as text.
public enum MetricsLine {
    /// Statistics of one finished optimizer step, identical on every rank but `times` (rank 0's).
    public struct StepLine: Codable, Equatable, Sendable {
        public var step: Int
        /// Training seconds so far (all ranks agree), evaluation and fidelity checks excluded.
        public var elapsed: Double
        public var ranks: Int
        public var samplesScored: Int
        public var samplesBackpropagated: Int
        public var trainLoss: Double
        public var lr: Double
        public var gradNorm: Double
        public var threshold: Double?
        public var meanCandidateLoss: Double?
        public var meanSelectedLoss: Double?
        public var selectedPerRank: [Int]
        public var imbalance: Double
        public var maskedTokens: Int
        public var times: PhaseTimes
        /// Present on the steps where fidelity was measured (`--fidelity-every`); the Spearman correlation is
        /// null when undefined (a pool of equal losses).
        public var fidelitySpearman: Double?
        public var fidelityTopOverlap: Double?
        /// Present while `--sift-start-learned` waits: the average learned share after this step (`SiftStart`).
        public var learnedShare: Double?
        /// Present on the steps that evaluated the validation split (`--eval-every`).
        public var valLoss: Double?
        public var valAccuracy: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case step, elapsed, ranks, samplesScored = "samples_scored", samplesBackpropagated = "samples_backpropagated"
            case trainLoss = "train_loss", lr, gradNorm = "grad_norm", threshold
            case meanCandidateLoss = "mean_candidate_loss", meanSelectedLoss = "mean_selected_loss"
            case selectedPerRank = "selected_per_rank", imbalance, maskedTokens = "masked_tokens", times
            case fidelitySpearman = "fidelity_spearman", fidelityTopOverlap = "fidelity_top_overlap"
            case learnedShare = "learned_share"
            case valLoss = "val_loss", valAccuracy = "val_accuracy"
        }

        /// Always-present keys are written even when null (`threshold`, the mean losses, a fidelity Spearman
        /// that is undefined); the fidelity and validation keys only on the steps that measured them.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(step, forKey: .step)
            try c.encode(elapsed, forKey: .elapsed)
            try c.encode(ranks, forKey: .ranks)
            try c.encode(samplesScored, forKey: .samplesScored)
            try c.encode(samplesBackpropagated, forKey: .samplesBackpropagated)
            try c.encode(trainLoss, forKey: .trainLoss)
            try c.encode(lr, forKey: .lr)
            try c.encode(gradNorm, forKey: .gradNorm)
            try c.encode(threshold, forKey: .threshold)
            try c.encode(meanCandidateLoss, forKey: .meanCandidateLoss)
            try c.encode(meanSelectedLoss, forKey: .meanSelectedLoss)
            try c.encode(selectedPerRank, forKey: .selectedPerRank)
            try c.encode(imbalance, forKey: .imbalance)
            try c.encode(maskedTokens, forKey: .maskedTokens)
            try c.encode(times, forKey: .times)
            if let overlap = fidelityTopOverlap {
                try c.encode(fidelitySpearman, forKey: .fidelitySpearman)
                try c.encode(overlap, forKey: .fidelityTopOverlap)
            }
            try c.encodeIfPresent(learnedShare, forKey: .learnedShare)
            try c.encodeIfPresent(valLoss, forKey: .valLoss)
            try c.encodeIfPresent(valAccuracy, forKey: .valAccuracy)
        }
    }

    /// The closing line: the final validation after the last step.
    public struct FinalLine: Codable, Equatable, Sendable {
        public var step: Int
        /// Always true: marks the closing line.
        public var final: Bool = true
        public var valLoss: Double
        public var valAccuracy: Double
        /// Masked validation tokens the final evaluation counted.
        public var valMaskedTokens: Int
        public var elapsed: Double

        enum CodingKeys: String, CodingKey, CaseIterable {
            case step, final, valLoss = "val_loss", valAccuracy = "val_accuracy", valMaskedTokens = "val_masked_tokens", elapsed
        }
    }

    /// `x` rounded as `String(format:)` writes it (e.g. "%.6f"), so that the JSON number has those digits.
    static func rounded(_ x: Double, _ format: String) -> Double {
        x.isFinite ? Double(String(format: format, x)) ?? x : x
    }

    /// One line of JSON without spaces, keys in a fixed (sorted) order.
    static func json<T: Encodable>(_ line: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(line), as: UTF8.self)
    }
}
