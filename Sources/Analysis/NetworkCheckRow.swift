import Selection

/// One checked row of `sift project --check-network`.
public struct NetworkCheckRow: Codable, Sendable {
    public var rate: String
    public var rateBitsPerS: Double?
    public var model: String
    public var policy: SelectionPolicy
    public var overlap: Bool
    public var measuredStepSeconds: Double
    public var predictedStepSeconds: Double
    public var relativeError: Double
    public var overTolerance: Bool
    public var measuredComputeSeconds: Double
    public var measuredCommunicationSeconds: Double
    public var predictedCommunicationSeconds: Double
    public var predictedAllreduceSeconds: Double
    public var untimedSeconds: Double
    public var impliedOverlapProgress: Double?
    public var loadAverageBefore: Double?
}
