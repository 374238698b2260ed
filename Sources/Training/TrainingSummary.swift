import Foundation

/// Result of evaluating the held-out split.
public struct EvaluationResult: Sendable {
    /// Mean cross-entropy over masked tokens, nats.
    public var loss: Double
    /// Correct argmax predictions over masked tokens.
    public var accuracy: Double
    public var maskedTokens: Int
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
    /// The run stopped because a rank received SIGTERM, SIGINT or SIGUSR1 (checkpoint written if a
    /// checkpoint directory was given).
    public var preempted: Bool = false
}
