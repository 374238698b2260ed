/// One sgemm measurement.
public struct SgemmRow: Codable, Sendable {
    public var config: String
    public var product: String
    public var m: Int, k: Int, n: Int
    public var threads: Int
    public var ranksAtOnce: Int
    public var gflops: Double
}
