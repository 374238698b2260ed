import Selection

/// The two selection exchanges of one SIFT step at one node count, and the pool from which the
/// threshold exchange is cheaper there (nil: not below 2⁴⁰ candidates, or one node).
public struct ExchangeRow: Codable, Sendable {
    public var nodes: Int
    public var pool: Int
    public var allgatherSeconds: Double
    public var thresholdSeconds: Double
    public var cheaper: SelectionExchange
    public var thresholdCheaperFromPool: Int?
}
