/// Aggregate STREAM rates: rank 0 alone, and all ranks streaming at once.
public struct MemoryReport: Codable, Sendable {
    public var arrayBytes: Int?
    public var ranksTogether: Int?
    public var rank0Alone: StreamRates?
    public var allRanks: StreamRates
}
