import Bench

/// launch/scaling.sh's measurements (DIR/scaling.json), the input of `sift project --check`.
public struct ScalingMeasurements: Codable, Sendable {
    public var config: String
    public var vocabSize: Int
    public var seqLen: Int?
    public var cores: Int
    public var threadsPerRank: Int?
    public var bucketMb: Double?
    public var microBatch: Int?
    public var steps: Int?
    public var perRankBatch: Int?
    public var globalBatch: Int?
    public var date: String?
    public var memory: MemoryReport?
    public var latencySeconds: Double?
    public var allreduce: [AllreduceRow]?
    public var machine: MachineReport?
    /// The bench run's CPU share (below 0.8: other processes competed for the cores).
    public var lowestCpuShareOfWallTime: Double?
    public var runs: [ScalingRun]
}
