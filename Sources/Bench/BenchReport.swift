/// Everything `sift bench --json` writes; sections that were not run are absent.
public struct BenchReport: Codable, Sendable {
    public var machine: MachineReport?
    public var settings: BenchSettingsReport?
    public var memory: MemoryReport?
    public var sgemm: [SgemmRow]?
    public var sgemmPeakGflops: Double?
    public var steps: [StepRow]?
    /// One verdict per measured target (base, mini); empty when neither was measured in `sift train`'s
    /// default configuration (exit layer, ρ, scoring path).
    public var siftTargets: [SiftTarget]?
    public var allreduce: AllreduceReport?
    /// The vanilla step per kernel kind (`--only …,profile`).
    public var profile: [ProfileRow]?
    /// Each scoring path's fidelity to the exact loss on a trained model and real data (`--only …,fidelity`).
    public var fidelity: [FidelityRow]?
    public var lowestCpuShareOfWallTime: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case machine, settings, memory, sgemm, sgemmPeakGflops, steps, siftTargets, allreduce, profile, fidelity, lowestCpuShareOfWallTime
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(machine, forKey: .machine)
        try c.encodeIfPresent(settings, forKey: .settings)
        try c.encodeIfPresent(memory, forKey: .memory)
        try c.encodeIfPresent(sgemm, forKey: .sgemm)
        try c.encodeIfPresent(sgemmPeakGflops, forKey: .sgemmPeakGflops)
        try c.encodeIfPresent(steps, forKey: .steps)
        try c.encodeIfPresent(siftTargets, forKey: .siftTargets)
        try c.encodeIfPresent(allreduce, forKey: .allreduce)
        try c.encodeIfPresent(profile, forKey: .profile)
        try c.encodeIfPresent(fidelity, forKey: .fidelity)
        try c.encodeIfPresent(lowestCpuShareOfWallTime, forKey: .lowestCpuShareOfWallTime)
    }
}
