/// The per-node compute times a projection assumed, and where they came from.
public struct ComputeReport: Codable, Sendable {
    public var forwardBackwardSecondsPerSample: Double
    public var scoringSecondsPerSample: Double
    public var optimizerSecondsPerStep: Double
    public var dataSecondsPerSample: Double
    public var source: String
}
