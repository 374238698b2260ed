import Foundation
import Kernels

/// Faults the reliability tests inject through hidden `sift train` flags; each has one named hook the
/// trainer calls at the point it applies to.
public struct FaultInjection: Sendable, Equatable {
    /// Rank `stallRank` hangs at step `stallStep` (1-based), to exercise the watchdog.
    public var stallRank: Int? = nil
    public var stallStep: Int? = nil
    /// Rank 0's gradients become NaN at this step (1-based).
    public var nanStep: Int? = nil
    /// Seconds to sleep after every step, so a test can interrupt a run midway.
    public var stepDelay: Double = 0
    /// Rank `divergeRank` adds 1 to its first weight after step `divergeStep`, so its replica differs
    /// (exercises the replica check).
    public var divergeRank: Int? = nil
    public var divergeStep: Int? = nil
    /// Seconds to pause between the pieces of every checkpoint write, so a test can SIGKILL the writer
    /// mid-save.
    public var savePause: Double = 0
    /// Rank `failRank` meets an error after step `failStep` (1-based) that the other ranks do not: a
    /// failure local to one rank (a write that fails, a check only that rank makes), thrown as the
    /// `TrainingError` the trainer otherwise raises on every rank at once.
    public var failRank: Int? = nil
    public var failStep: Int? = nil
    public init() {}
}

extension FaultInjection {
    /// Hangs forever if rank `rank` is to stall at step `step` (1-based), so that the watchdog fires.
    func stallIfAsked(rank: Int, step: Int) {
        guard stallRank == rank && stallStep == step else { return }
        while true { Thread.sleep(forTimeInterval: 3600) }
    }

    /// The loss weight of rank `rank` at step `step` (1-based): NaN on rank 0 at `nanStep`, so its gradients
    /// become NaN before any bucket's allreduce starts (writing into the buffer later would race with it).
    func lossWeight(_ weight: Float, rank: Int, step: Int) -> Float {
        nanStep == step && rank == 0 ? .nan : weight
    }

    /// Throws on rank `failRank` once `failStep` steps are finished.
    func failIfAsked(rank: Int, step: Int) throws {
        guard failRank == rank && failStep == step else { return }
        throw TrainingError(message: "injected failure on rank \(rank) after step \(step) (--debug-fail-rank)")
    }

    /// After step `step` (0-based count of finished steps): sleeps `stepDelay`, and on `divergeRank` at
    /// `divergeStep` adds 1 to the first weight, so that the replicas differ.
    func afterStep(_ step: Int, rank: Int, parameters: FloatBuffer) {
        if stepDelay > 0 { Thread.sleep(forTimeInterval: stepDelay) }
        if divergeRank == rank && divergeStep == step { parameters[0] += 1 }
    }
}
