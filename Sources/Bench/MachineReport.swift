/// The machine a benchmark ran on.
public struct MachineReport: Codable, Sendable {
    public var cpu: String
    public var cores: Int
    public var ranks: Int
    public var openblasThreadsPerRank: Int
    public var memoryGib: Double
    public var date: String
    public var loadAverageAtStart: Double?
}
