import Foundation

/// What a finished `sift train` run did, read back from its `--metrics` JSON Lines: the numbers a
/// newcomer needs at the end of a run (final validation, how much of the run selected and what that
/// cost per step, where the training time went). Built from the file alone, so it can summarise any
/// run after the fact (`sift summary`).
public struct RunSummary: Equatable, Sendable {
    /// One validation evaluation: optimizer step, mean MLM loss (nats) and accuracy (fraction).
    public struct Evaluation: Equatable, Sendable {
        public var step: Int
        public var loss: Double
        public var accuracy: Double
        public init(step: Int, loss: Double, accuracy: Double) {
            self.step = step
            self.loss = loss
            self.accuracy = accuracy
        }
    }

    /// Optimizer steps logged (the last step's number).
    public var steps: Int
    public var ranks: Int
    /// Steps that scored a candidate pool and selected from it (the others were plain steps).
    public var selectingSteps: Int
    public var samplesScored: Int
    public var samplesBackpropagated: Int
    /// Evaluations during the run, in step order; the final one last when the run finished.
    public var evaluations: [Evaluation]
    /// The closing evaluation (nil when the run stopped early, e.g. preempted).
    public var final: Evaluation?
    /// Masked validation tokens of the final evaluation (nil for logs written before it was recorded).
    public var validationTokens: Int?
    /// Mean Spearman correlation and top-b overlap of the approximate with the exact losses over the
    /// fidelity checks (`--fidelity-every`), nil when none ran.
    public var meanSpearman: Double?
    public var meanTopOverlap: Double?
    public var fidelityChecks: Int
    /// The training clock at the last step (seconds; evaluation and fidelity checks are off it).
    public var trainingSeconds: Double
    /// Rank 0's seconds per phase summed over the run, keyed by the metrics' `times` names
    /// (data, scoring, selection, forward_backward, exposed_allreduce, optimizer, waiting).
    public var phaseSeconds: [String: Double]
    /// Mean seconds of a plain step and of a selecting step (sum of rank 0's phases), nil when the run
    /// had none of that kind.
    public var meanPlainStep: Double?
    public var meanSelectingStep: Double?
    /// Mean seconds of scoring plus selection per selecting step.
    public var meanSelectionCost: Double?

    /// The phases in the order the metrics list them.
    public static let phaseOrder = ["data", "scoring", "selection", "forward_backward", "exposed_allreduce", "optimizer", "waiting"]

    /// Parses a metrics file's text. Throws when it holds no step record; ignores a torn last line.
    public init(metricsJSONLines text: String) throws {
        steps = 0
        ranks = 1
        selectingSteps = 0
        samplesScored = 0
        samplesBackpropagated = 0
        evaluations = []
        final = nil
        validationTokens = nil
        meanSpearman = nil
        meanTopOverlap = nil
        fidelityChecks = 0
        trainingSeconds = 0
        phaseSeconds = [:]
        var plain = (count: 0, seconds: 0.0), selecting = (count: 0, seconds: 0.0, cost: 0.0)
        var spearman = (count: 0, sum: 0.0), overlap = (count: 0, sum: 0.0)
        var lastScored = 0, records = 0
        for line in text.split(separator: "\n") {
            guard let data = line.data(using: .utf8),
                let row = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            else { continue }
            let step = (row["step"] as? NSNumber)?.intValue ?? 0
            if (row["final"] as? Bool) == true {
                if let loss = row["val_loss"] as? Double, let accuracy = row["val_accuracy"] as? Double {
                    final = Evaluation(step: step, loss: loss, accuracy: accuracy)
                    evaluations.append(final!)
                }
                validationTokens = (row["val_masked_tokens"] as? NSNumber)?.intValue
                if let elapsed = row["elapsed"] as? Double { trainingSeconds = elapsed }
                continue
            }
            guard let times = row["times"] as? [String: Any] else { continue }
            records += 1
            steps = step
            ranks = (row["ranks"] as? NSNumber)?.intValue ?? ranks
            let scored = (row["samples_scored"] as? NSNumber)?.intValue ?? lastScored
            samplesScored = scored
            samplesBackpropagated = (row["samples_backpropagated"] as? NSNumber)?.intValue ?? samplesBackpropagated
            trainingSeconds = (row["elapsed"] as? Double) ?? trainingSeconds
            var stepSeconds = 0.0
            for (name, value) in times {
                let seconds = (value as? NSNumber)?.doubleValue ?? 0
                phaseSeconds[name, default: 0] += seconds
                stepSeconds += seconds
            }
            // A step selected when it scored candidates (sift, exact) or, for last-loss, when it had a threshold.
            let selected = scored > lastScored || !(row["threshold"] is NSNull || row["threshold"] == nil)
            lastScored = scored
            if selected {
                selectingSteps += 1
                selecting.count += 1
                selecting.seconds += stepSeconds
                selecting.cost +=
                    ((times["scoring"] as? NSNumber)?.doubleValue ?? 0) + ((times["selection"] as? NSNumber)?.doubleValue ?? 0)
            } else {
                plain.count += 1
                plain.seconds += stepSeconds
            }
            if let s = row["fidelity_spearman"] as? Double {
                spearman.count += 1
                spearman.sum += s
            }
            if let o = row["fidelity_top_overlap"] as? Double {
                overlap.count += 1
                overlap.sum += o
            }
            if let loss = row["val_loss"] as? Double, let accuracy = row["val_accuracy"] as? Double {
                evaluations.append(Evaluation(step: step, loss: loss, accuracy: accuracy))
            }
        }
        guard records > 0 else { throw RunSummaryError(message: "no step records (is this a `sift train --metrics` file?)") }
        meanPlainStep = plain.count > 0 ? plain.seconds / Double(plain.count) : nil
        meanSelectingStep = selecting.count > 0 ? selecting.seconds / Double(selecting.count) : nil
        meanSelectionCost = selecting.count > 0 ? selecting.cost / Double(selecting.count) : nil
        fidelityChecks = overlap.count
        meanSpearman = spearman.count > 0 ? spearman.sum / Double(spearman.count) : nil
        meanTopOverlap = overlap.count > 0 ? overlap.sum / Double(overlap.count) : nil
    }

    /// Share of the logged steps that selected, in [0, 1].
    public var selectingShare: Double { steps > 0 ? Double(selectingSteps) / Double(steps) : 0 }

    /// Seconds of all phases summed over the run (rank 0).
    public var phaseTotal: Double { phaseSeconds.values.reduce(0, +) }
}
