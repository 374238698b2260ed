/// A named network description for `sift project --interconnect`.
public struct Interconnect: Sendable, Equatable {
    public var name: String
    /// Nominal link rate in Gbit/s (decimal: 25 GbE is 25·10⁹ bit/s). MPI typically reaches 80–95% of it.
    public var bandwidthGbps: Double
    /// One-way small-message MPI latency in microseconds.
    public var latencyMicroseconds: Double
    public var summary: String

    public init(name: String, bandwidthGbps: Double, latencyMicroseconds: Double, summary: String) {
        self.name = name
        self.bandwidthGbps = bandwidthGbps
        self.latencyMicroseconds = latencyMicroseconds
        self.summary = summary
    }

    /// Typical figures, not measurements: nominal link rates and the small-message MPI latencies
    /// usually quoted for each fabric (TCP over Ethernet; verbs over InfiniBand).
    public static let presets: [Interconnect] = [
        Interconnect(name: "10gbe", bandwidthGbps: 10, latencyMicroseconds: 30, summary: "10 Gb/s Ethernet, TCP"),
        Interconnect(name: "25gbe", bandwidthGbps: 25, latencyMicroseconds: 20, summary: "25 Gb/s Ethernet, TCP"),
        Interconnect(name: "100gbe", bandwidthGbps: 100, latencyMicroseconds: 10, summary: "100 Gb/s Ethernet, TCP"),
        Interconnect(name: "roce-100", bandwidthGbps: 100, latencyMicroseconds: 3, summary: "100 Gb/s Ethernet, RoCE"),
        Interconnect(name: "ib-edr", bandwidthGbps: 100, latencyMicroseconds: 1.2, summary: "InfiniBand EDR (100 Gb/s)"),
        Interconnect(name: "ib-hdr", bandwidthGbps: 200, latencyMicroseconds: 1.0, summary: "InfiniBand HDR (200 Gb/s)"),
        Interconnect(name: "ib-ndr", bandwidthGbps: 400, latencyMicroseconds: 1.0, summary: "InfiniBand NDR (400 Gb/s)")
    ]

    /// The network `sift project` assumes by default, and the one `sift train --selection-exchange auto`
    /// decides by (the trainer cannot know its network): 25 Gb/s Ethernet.
    public static let reference = preset(named: "25gbe")!

    public static func preset(named name: String) -> Interconnect? {
        presets.first { $0.name == name.lowercased() }
    }

    public var medium: CommunicationMedium {
        .network(bandwidth: bandwidthGbps * 1e9 / 8, latency: latencyMicroseconds * 1e-6)
    }
}
