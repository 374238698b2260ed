import Selection

/// One row of `sift project`'s projection.
public struct ProjectionRow: Codable, Sendable {
    public var policy: SelectionPolicy
    public var nodes: Int
    public var globalBatch: Int
    public var computeSeconds: Double
    public var scoringSeconds: Double
    public var allreduceSeconds: Double
    public var exposedAllreduceWithOverlapSeconds: Double
    public var selectionExchangeSeconds: Double
    public var synchronisationSeconds: Double
    public var stepSecondsOverlap: Double
    public var stepSecondsNoOverlap: Double
    public var samplesPerSecondOverlap: Double
    public var samplesPerSecondNoOverlap: Double
    /// Step time over the global batch: what one sample costs the whole job (optional: absent in older files).
    public var secondsPerSampleOverlap: Double? = nil
    public var secondsPerSampleNoOverlap: Double? = nil
    public var efficiencyOverlap: Double
    public var efficiencyNoOverlap: Double
}
