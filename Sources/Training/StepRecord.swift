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

    func json(samplesScored: Int, samplesBackpropagated: Int, elapsed: Double, times: PhaseTimes,
              evaluation: EvaluationResult?, ranks: Int) -> String {
        func opt(_ x: Double?) -> String { x.map { String(format: "%.6f", $0) } ?? "null" }
        var s = "{\"step\":\(step),\"elapsed\":\(String(format: "%.3f", elapsed)),\"ranks\":\(ranks)"
        s += ",\"samples_scored\":\(samplesScored),\"samples_backpropagated\":\(samplesBackpropagated)"
        s += ",\"train_loss\":\(String(format: "%.6f", trainLoss)),\"lr\":\(String(format: "%.6g", learningRate))"
        s += ",\"grad_norm\":\(String(format: "%.6f", gradientNorm)),\"threshold\":\(opt(threshold.map(Double.init)))"
        s += ",\"mean_candidate_loss\":\(opt(meanCandidateLoss)),\"mean_selected_loss\":\(opt(meanSelectedLoss))"
        s += ",\"selected_per_rank\":[\(selectedPerRank.map(String.init).joined(separator: ","))]"
        s += ",\"imbalance\":\(String(format: "%.4f", imbalance)),\"masked_tokens\":\(maskedTokens)"
        s += ",\"times\":\(times.json)"
        if let f = fidelity {
            s += ",\"fidelity_spearman\":\(opt(f.spearman)),\"fidelity_top_overlap\":\(String(format: "%.4f", f.overlap))"
        }
        if let e = evaluation {
            s += ",\"val_loss\":\(String(format: "%.6f", e.loss)),\"val_accuracy\":\(String(format: "%.6f", e.accuracy))"
        }
        return s + "}"
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
