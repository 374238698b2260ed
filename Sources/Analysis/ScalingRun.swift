import Selection

/// One `sift train` run of launch/scaling.sh, summarised from its metrics file.
public struct ScalingRun: Codable, Sendable {
    /// "weak" or "strong".
    public var mode: String
    /// vanilla or sift.
    public var policy: SelectionPolicy
    public var ranks: Int
    public var batchSize: Int
    public var perRankBatch: Int?
    public var selectFraction: Double?
    public var exitLayer: Int?
    public var poolSize: Int?
    public var stepsTimed: Int?
    /// Wall-clock seconds per step (the slowest rank's), averaged over the timed steps.
    public var stepSeconds: Double
    public var samplesPerSecond: Double?
    /// Rank 0's mean time split per step, seconds, by phase name (`PhaseTimes` keys).
    public var times: [String: Double]
    public var oversubscribed: Bool?
    public var coresUsed: Int?
    public var efficiency: Double?
    public var computeSeconds: Double?
    public var communicationSeconds: Double?
    public var waitingSeconds: Double?
}
