import CostModel

/// How a TCP link of a nominal rate behaves in the model beyond its rate: the parameters a fit sets.
public struct LinkParameters: Sendable, Equatable {
    /// TCP payload bytes per byte the token bucket counts: 1448/1514 for TCP/IPv4 with timestamps in
    /// Ethernet frames at MTU 1500.
    public static let tcpPayloadShare = 1448.0 / 1514.0

    /// Payload share of the nominal rate.
    public var efficiency: Double
    /// Seconds per message round (α); nil: the measured 8-byte allreduce at each rate.
    public var latency: Double?
    /// Seconds each gradient bucket costs beyond its ring's latencies (`ScalingModel.perBucketSeconds`).
    public var perBucketSeconds: Double
    /// Share of backward during which started buckets progress (`ScalingModel.overlapProgress`).
    public var overlapProgress: Double

    public init(
        efficiency: Double = LinkParameters.tcpPayloadShare, latency: Double? = nil, perBucketSeconds: Double = 0,
        overlapProgress: Double = 1
    ) {
        self.efficiency = efficiency
        self.latency = latency
        self.perBucketSeconds = perBucketSeconds
        self.overlapProgress = overlapProgress
    }

    /// The medium of a link of `rateBitsPerSecond` (nil: unshaped, bandwidth unbounded) with round `latency`.
    public func medium(rateBitsPerSecond: Double?, latency: Double) -> CommunicationMedium {
        .network(bandwidth: rateBitsPerSecond.map { efficiency * $0 / 8 } ?? .infinity, latency: latency)
    }
}
