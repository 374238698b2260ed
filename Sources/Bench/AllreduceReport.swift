/// The allreduce section: per-configuration rows and the small-message latency.
public struct AllreduceReport: Codable, Sendable {
    public var gradients: [AllreduceRow]
    public var smallAllreduceSeconds: Double
    public var latencySeconds: Double
    public var ranks: Int
    /// OpenMPI's `coll_libnbc_iallreduce_algorithm` in this run, the algorithm of the bucketed rows
    /// (0: libnbc's own choice, 1 ring, 2 binomial tree, 3 Rabenseifner, 4 recursive doubling).
    public var iallreduceAlgorithm: Int?
}
