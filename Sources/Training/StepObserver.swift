import Foundation

/// Everything rank 0 reports about a run as it goes: the per-step metrics file, the TensorBoard event file,
/// the selection log and the progress line. Other ranks hold an observer that writes nothing.
final class StepObserver {
    private let metrics: JSONLinesWriter?
    private let tensorboard: TensorBoardWriter?
    private let selects: Bool
    private let selectionLog: JSONLinesWriter?
    private let progress: ProgressLine
    private let output: (String) -> Void
    private let logEvery: Int
    private var lastEvaluation: EvaluationResult?
    private var toldTensorBoardFailure = false

    /// - Parameter firstStep: the step this run continues from (0 from the start): a resumed run's event file
    ///   opens with a restart marker there, so TensorBoard drops the earlier files' later steps.
    init(options: TrainingOptions, isRoot: Bool, firstStep: Int = 0, output: @escaping (String) -> Void) throws {
        metrics = try isRoot ? options.metricsPath.map { try JSONLinesWriter(path: $0, append: options.resume) } : nil
        tensorboard = try isRoot ? options.tensorboardDirectory.map { try TensorBoardWriter(directory: $0, restartStep: firstStep) } : nil
        selects = options.policy.selects
        selectionLog = try isRoot ? options.selectionLogPath.map { try JSONLinesWriter(path: $0, append: options.resume) } : nil
        progress = ProgressLine(enabled: isRoot, output: output)
        self.output = isRoot ? output : { _ in }
        logEvery = max(1, options.logEvery)
    }

    /// Records a finished step: its metrics line, its selection, and the progress line.
    /// - Parameters:
    ///   - total: the run's length in steps, 0 while it is not known (a schedule being fitted).
    ///   - elapsed: training seconds so far (all ranks agree), `runElapsed` those of this process.
    func stepFinished(
        _ record: StepRecord, samplesScored: Int, samplesBackpropagated: Int, elapsed: Double,
        runElapsed: Double, stepsDone: Int, total: Int, times: PhaseTimes, evaluation: EvaluationResult?,
        ranks: Int, tokensPerSecond: Double
    ) {
        if let e = evaluation { lastEvaluation = e }
        if metrics != nil || tensorboard != nil {
            let line = record.metricsLine(
                samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                elapsed: elapsed, times: times, evaluation: evaluation, ranks: ranks)
            metrics?.write(MetricsLine.json(line))
            tensorboard?.write(line, selects: selects)
            reportTensorBoardFailure()
        }
        if let trace = record.selection { selectionLog?.write(trace.json(step: record.step)) }
        progress.update(
            step: record.step, of: total, record: record, evaluation: lastEvaluation,
            tokensPerSecond: tokensPerSecond, elapsed: runElapsed, stepsDone: stepsDone,
            force: evaluation != nil || record.step % logEvery == 0)
    }

    /// A line for the log (rank 0), after ending a live progress line.
    func say(_ line: String) {
        progress.finish()
        output(line)
    }

    /// The final evaluation: a line for the reader and the metrics file's closing row.
    func finished(step: Int, final: EvaluationResult, elapsed: Double) {
        say(
            String(
                format: "final validation: loss %.4f, accuracy %.2f%% over %d masked tokens",
                final.loss, 100 * final.accuracy, final.maskedTokens))
        let line = MetricsLine.FinalLine(
            step: step, valLoss: MetricsLine.rounded(final.loss, "%.6f"),
            valAccuracy: MetricsLine.rounded(final.accuracy, "%.6f"),
            valMaskedTokens: final.maskedTokens, elapsed: MetricsLine.rounded(elapsed, "%.3f"))
        metrics?.write(MetricsLine.json(line))
        tensorboard?.write(line)
        reportTensorBoardFailure()
    }

    /// Says once that the event file could not be written (a full disk): training goes on without it.
    private func reportTensorBoardFailure() {
        guard let failure = tensorboard?.failure, !toldTensorBoardFailure else { return }
        toldTensorBoardFailure = true
        say("warning: --tensorboard: \(failure); no further events are written")
    }

    func finish() { progress.finish() }
}
