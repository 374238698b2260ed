import Core
import Foundation

/// Rank 0's progress display: the step's numbers as one line, rendered by `LiveLine` (a live bar on
/// a terminal, plain lines in a log).
final class ProgressLine {
    private let line: LiveLine

    init(enabled: Bool, output: @escaping (String) -> Void) {
        line = LiveLine(enabled: enabled, output: output)
    }

    func update(
        step: Int, of total: Int, record: StepRecord, evaluation: EvaluationResult?, tokensPerSecond: Double,
        elapsed: Double, stepsDone: Int, force: Bool
    ) {
        guard line.wants(force: force) else { return }
        // total 0: the run's length is not known yet (a schedule still being fitted to a time budget).
        let remaining = stepsDone > 0 && total > 0 ? elapsed / Double(stepsDone) * Double(total - step) : 0
        var text =
            total > 0
            ? String(format: "step %d/%d | loss %.4f", step, total, record.trainLoss)
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
