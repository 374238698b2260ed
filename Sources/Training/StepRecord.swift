import Core
import Foundation
import Selection

/// Statistics of one optimizer step, identical on every rank.
struct StepRecord {
    var step: Int
    /// Mean cross-entropy over the masked tokens of the globally selected samples (with dropout), nats.
    var trainLoss: Double
    var learningRate: Float
    /// Global gradient norm before clipping.
    var gradientNorm: Double
    /// The smallest approximate loss that was selected (b-th largest), nil for vanilla.
    var threshold: Float?
    var meanCandidateLoss: Double?
    var meanSelectedLoss: Double?
    /// Selected candidates per rank's share, before rebalancing.
    var selectedPerRank: [Int]
    var imbalance: Double
    var maskedTokens: Int
    /// Tokens backpropagated this step.
    var tokens: Int
    /// Spearman correlation of approximate and exact pool losses, and overlap of their top-b sets,
    /// on steps where fidelity was measured.
    var fidelity: SelectionFidelity.Agreement? = nil
    /// The average learned share while `--sift-start-learned` waits (`SiftStart`), nil otherwise.
    var learnedShare: Double? = nil
    /// The pool and its selection, kept only when a selection log is written.
    var selection: SelectionTrace? = nil

    /// The step's line of the metrics file (docs/METRICS.md), rounded as documented there.
    func metricsLine(
        samplesScored: Int, samplesBackpropagated: Int, elapsed: Double, times: PhaseTimes,
        evaluation: EvaluationResult?, ranks: Int
    ) -> MetricsLine.StepLine {
        func r(_ x: Double, _ format: String = "%.6f") -> Double { MetricsLine.rounded(x, format) }
        return MetricsLine.StepLine(
            step: step, elapsed: r(elapsed, "%.3f"), ranks: ranks, samplesScored: samplesScored,
            samplesBackpropagated: samplesBackpropagated, trainLoss: r(trainLoss), lr: r(Double(learningRate), "%.6g"),
            gradNorm: r(gradientNorm), threshold: threshold.map { r(Double($0)) }, meanCandidateLoss: meanCandidateLoss.map { r($0) },
            meanSelectedLoss: meanSelectedLoss.map { r($0) }, selectedPerRank: selectedPerRank, imbalance: r(imbalance, "%.4f"),
            maskedTokens: maskedTokens, times: times.rounded, fidelitySpearman: fidelity?.spearman.map { r($0) },
            fidelityTopOverlap: fidelity.map { r($0.topOverlap, "%.4f") }, learnedShare: learnedShare.map { r($0) },
            valLoss: evaluation.map { r($0.loss) },
            valAccuracy: evaluation.map { r($0.accuracy) })
    }
}
