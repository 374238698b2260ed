/// One configuration's gradient allreduce.
public struct AllreduceRow: Codable, Sendable {
    public var config: String
    public var bytes: Double
    public var seconds: Double
    public var busBytesPerS: Double
    public var bucketedSeconds: Double?
    public var bucketedBusBytesPerS: Double?
    public var buckets: Int?
    public var ringBoundSeconds: Double?
    public var ringBoundBusBytesPerS: Double?
    public var fractionOfBound: Double?
    public var ranks: Int
}
