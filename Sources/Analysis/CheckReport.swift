/// Everything `sift project --check --json` writes.
public struct CheckReport: Codable, Sendable {
    public var check: String
    public var config: String
    public var vocabSize: Int
    public var rows: [CheckRow]
    public var meanAbsRelativeErrorMultiRank: Double?
    public var meanAbsRelativeErrorMultiRankWithMeasuredAllreduce: Double?
    public var allreduceFractionOfBound: Double?
}
