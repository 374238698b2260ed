/// Everything launch/cluster_bench.sh writes to DIR/network.json.
public struct NetworkMeasurements: Codable, Sendable {
    public var hosts: Int
    public var cores: Int
    public var cpu: String?
    public var vocabSize: Int
    public var seqLen: Int?
    public var steps: Int?
    public var date: String?
    public var loadAverageAtEnd: Double?
    public var runs: [NetworkRun]
    public var allreduce: [NetworkAllreduce]?
    public var ddp: [NetworkRun]?
}
