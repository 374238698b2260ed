import Core
import Foundation

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
    var fidelity: (spearman: Double?, overlap: Double)? = nil
    /// The pool and its selection, kept only when a selection log is written.
    var selection: SelectionTrace? = nil

    /// The step's line of the metrics file (docs/METRICS.md), rounded as documented there.
    func metricsLine(samplesScored: Int, samplesBackpropagated: Int, elapsed: Double, times: PhaseTimes,
                     evaluation: EvaluationResult?, ranks: Int) -> MetricsLine.StepLine {
        func r(_ x: Double, _ format: String = "%.6f") -> Double { MetricsLine.rounded(x, format) }
        return MetricsLine.StepLine(
            step: step, elapsed: r(elapsed, "%.3f"), ranks: ranks, samplesScored: samplesScored,
            samplesBackpropagated: samplesBackpropagated, trainLoss: r(trainLoss), lr: r(Double(learningRate), "%.6g"),
            gradNorm: r(gradientNorm), threshold: threshold.map { r(Double($0)) }, meanCandidateLoss: meanCandidateLoss.map { r($0) },
            meanSelectedLoss: meanSelectedLoss.map { r($0) }, selectedPerRank: selectedPerRank, imbalance: r(imbalance, "%.4f"),
            maskedTokens: maskedTokens, times: times.rounded, fidelitySpearman: fidelity?.spearman.map { r($0) },
            fidelityTopOverlap: fidelity.map { r($0.overlap, "%.4f") }, valLoss: evaluation.map { r($0.loss) },
            valAccuracy: evaluation.map { r($0.accuracy) })
    }
}

/// Rank 0's progress display: the step's numbers as one line, rendered by `LiveLine` (a live bar on
/// a terminal, plain lines in a log).
final class ProgressLine {
    private let line: LiveLine

    init(enabled: Bool, output: @escaping (String) -> Void) {
        line = LiveLine(enabled: enabled, output: output)
    }

    func update(step: Int, of total: Int, record: StepRecord, evaluation: EvaluationResult?, tokensPerSecond: Double,
                elapsed: Double, stepsDone: Int, force: Bool) {
        guard line.wants(force: force) else { return }
        // total 0: the run's length is not known yet (a schedule still being fitted to a time budget).
        let remaining = stepsDone > 0 && total > 0 ? elapsed / Double(stepsDone) * Double(total - step) : 0
        var text = total > 0 ? String(format: "step %d/%d | loss %.4f", step, total, record.trainLoss)
                             : String(format: "step %d | loss %.4f", step, record.trainLoss)
        if let e = evaluation { text += String(format: " | val acc %.2f%%", 100 * e.accuracy) }
        text += String(format: " | %.0f tok/s", tokensPerSecond)
        if let t = record.threshold { text += String(format: " | threshold %.3f", t) }
        text += String(format: " | imbalance %.2f", record.imbalance)
        if total > 0 { text += " | ETA " + formatDuration(remaining) }
        line.show(text, step: step, of: total)
    }

    func finish() { line.finish() }
}

/// "1h02m", "3m05s" or "12s".
func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}
