import Foundation

/// What a finished run reports.
public struct TrainingResult: Sendable {
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

extension TrainingResult {
    /// Training seconds per step without this process's first step (all of them if it ran only one).
    public var steadySecondsPerStep: Double {
        stepsTimed > 1 ? (elapsedSeconds - firstStepSeconds) / Double(stepsTimed - 1) : elapsedSeconds / Double(max(1, stepsTimed))
    }
}
