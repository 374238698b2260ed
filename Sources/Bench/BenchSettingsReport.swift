/// `sift bench`'s settings after `--quick` is applied.
public struct BenchSettingsReport: Codable, Sendable {
    public var configs: [String]
    public var vocabSize: Int
    public var seqLen: Int
    public var batchSize: [String: Int]
    public var selectFraction: Double
    public var exitLayers: String
    public var repeats: Int
    public var quick: Bool
}
