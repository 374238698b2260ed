/// Everything `sift project --check-network --json` writes.
public struct NetworkCheckReport: Codable, Sendable {
    public var check: String
    public var linkEfficiency: Double
    public var perBucketSeconds: Double
    public var overlapProgress: Double
    public var fitted: Bool
    public var tolerance: Double
    public var rows: [NetworkCheckRow]
    public var ddp: [NetworkDDPRow]
}
