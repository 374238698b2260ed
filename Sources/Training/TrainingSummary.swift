import Foundation

/// Result of evaluating the held-out split.
public struct EvaluationResult: Sendable {
    /// Mean cross-entropy over masked tokens, nats.
    public var loss: Double
    /// Correct argmax predictions over masked tokens.
    public var accuracy: Double
    public var maskedTokens: Int
    /// A unigram model's mean loss on the same masked tokens (token frequencies of the training data), nats;
    /// nil when the trainer has no unigram reference.
    public var unigramLoss: Double? = nil

    /// 1 − loss / unigram loss: the share of the unigram model's loss the model has learned (`SiftStart`).
    public var learnedShare: Double? { unigramLoss.flatMap { $0 > 0 ? 1 - loss / $0 : nil } }
}

/// What a finished run reports.
public struct TrainingSummary: Sendable {
    public var steps: Int
    public var samplesScored: Int
    public var samplesBackpropagated: Int
    public var elapsedSeconds: Double
    public var finalEvaluation: EvaluationResult?
    /// Wall time and backpropagated samples when `--target-accuracy` was first reached.
    public var targetReached: (seconds: Double, samples: Int, step: Int)?
    /// Summed phase times of this rank over the steps of this process.
    public var phaseTimes: PhaseTimes
    public var stepsTimed: Int
    /// Seconds of this process's first step (it allocates workspaces), so that steady-state step times can leave it out.
    public var firstStepSeconds: Double = 0
    /// The run stopped because a rank received SIGTERM, SIGINT or SIGUSR1 (checkpoint written if a
    /// checkpoint directory was given).
    public var preempted: Bool = false
}

extension TrainingSummary {
    /// Training seconds per step without this process's first step (all of them if it ran only one).
    public var steadySecondsPerStep: Double {
        stepsTimed > 1 ? (elapsedSeconds - firstStepSeconds) / Double(stepsTimed - 1) : elapsedSeconds / Double(max(1, stepsTimed))
    }
}
