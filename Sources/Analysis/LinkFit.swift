/// Per-bucket cost and link efficiency fitted on measured bucketed allreduces.
public struct LinkFit: Sendable, Equatable {
    public var perBucketSeconds: Double
    public var efficiency: Double
    /// Measurements the fit used.
    public var points: Int
}
