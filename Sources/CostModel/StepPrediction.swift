/// The predicted cost of one step at a given number of ranks, in seconds of the slowest rank.
public struct StepPrediction: Sendable, Equatable {
    public var ranks: Int
    /// Samples backpropagated per step over all ranks.
    public var globalBatch: Int
    /// Samples the busiest rank backpropagates (⌈b/p⌉).
    public var perRankBatch: Int
    /// Candidates the busiest rank scores (0 for vanilla).
    public var perRankPool: Int
    /// Data + scoring + forward/backward + optimizer on the busiest rank.
    public var compute: Double
    /// The scoring part of `compute`.
    public var scoring: Double
    /// The whole gradient allreduce, start to end, if nothing overlapped it.
    public var allreduce: Double
    /// The part of `allreduce` left after backward ends when buckets start during backward.
    public var exposedAllreduceWithOverlap: Double
    /// The selection exchange: allgather of the pool's losses, or the threshold exchange (SIFT only).
    public var selectionExchange: Double
    /// Small blocking allreduces (masked-token count, loss sum, the stop decision).
    public var synchronisation: Double

    /// Exposed communication of the step, with or without overlapping the allreduce with backward.
    public func communication(overlap: Bool) -> Double {
        (overlap ? exposedAllreduceWithOverlap : allreduce) + selectionExchange + synchronisation
    }

    /// Seconds per step.
    public func stepSeconds(overlap: Bool) -> Double { compute + communication(overlap: overlap) }

    /// Backpropagated samples per second over all ranks.
    public func samplesPerSecond(overlap: Bool) -> Double { Double(globalBatch) / stepSeconds(overlap: overlap) }
}
