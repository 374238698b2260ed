/// Everything `sift project --json` writes.
public struct ProjectionReport: Codable, Sendable {
    public var config: String
    public var vocabSize: Int
    public var gradientBytes: Double
    public var tailBytes: Double
    public var buckets: Int
    public var tailBuckets: Int
    public var interconnect: InterconnectReport
    public var compute: ComputeReport
    /// "weak" or "strong".
    public var scaling: String
    public var batch: Int
    public var selectFraction: Double
    public var exitLayer: Int
    public var rows: [ProjectionRow]
    /// SIFT's two selection exchanges at each node count (optional: absent in older files).
    public var exchanges: [ExchangeRow]? = nil
}
