import Foundation

/// Why a run stops before `--steps`, decided the same on every rank from agreed inputs.
enum StopReason: Equatable {
    /// A rank received SIGTERM, SIGINT or SIGUSR1 (`Preemption`).
    case preempted
    /// `--stop-after` was reached.
    case paused
    /// The training clock reached `--time-budget` (seconds).
    case outOfTime(budget: Double)
    /// Validation accuracy reached `--target-accuracy` after `seconds` and `samples` backpropagated samples.
    case targetReached(accuracy: Double, seconds: Double, samples: Int)

    /// The first reason to stop after step `step` at the agreed clock `now`, in the order above, or nil.
    init?(
        options: TrainingOptions, step: Int, now: Double, preempted: Bool,
        targetReached: (seconds: Double, samples: Int, step: Int)?
    ) {
        if preempted {
            self = .preempted
        } else if let last = options.stopAfter, step >= last {
            self = .paused
        } else if let budget = options.timeBudget, now >= budget {
            self = .outOfTime(budget: budget)
        } else if let target = options.targetAccuracy, let reached = targetReached {
            self = .targetReached(accuracy: target, seconds: reached.seconds, samples: reached.samples)
        } else {
            return nil
        }
    }

    /// The log line announcing the stop after step `step`.
    func message(step: Int) -> String {
        switch self {
        case .preempted: return "preempted at step \(step); continue with --resume"
        case .paused: return "stopped after step \(step) as asked (--stop-after); continue with --resume"
        case .outOfTime(let budget): return "time budget of \(Int(budget)) s reached at step \(step)"
        case .targetReached(let accuracy, let seconds, let samples):
            return String(
                format: "target accuracy %.1f%% reached at step %d after %.1f s and %d backpropagated samples",
                100 * accuracy, step, seconds, samples)
        }
    }
}
