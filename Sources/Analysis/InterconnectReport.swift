/// The interconnect a projection assumed.
public struct InterconnectReport: Codable, Sendable {
    public var name: String
    public var bandwidthGbps: Double
    public var latencyUs: Double
}
