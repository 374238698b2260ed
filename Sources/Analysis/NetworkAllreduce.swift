import Bench

/// launch/cluster_bench.sh's benchmark of the link alone at one rate (`sift bench --only allreduce`
/// across the two hosts).
public struct NetworkAllreduce: Codable, Sendable {
    public var rate: String
    public var rateBitsPerS: Double?
    /// One 8-byte allreduce over 2 ranks: one round, α.
    public var latencySeconds: Double
    public var smallAllreduceSeconds: Double
    public var gradients: [AllreduceRow]
}
