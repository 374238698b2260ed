import Training

/// What `sift advise` runs: the probe's length, seeds and the selecting configurations it tries.
public struct ProbePlan: Sendable {
    /// N: vanilla's full budget in steps; vanilla and every selecting configuration also run 3N/4.
    public var probeSteps: Int = 120
    /// One probe (vanilla N, vanilla 3N/4, each configuration 3N/4) per seed.
    public var seeds: [UInt64] = [1, 2]
    /// Exit layers probed (each with every selection fraction).
    public var exitLayers: [Int] = [TrainingOptions().exitLayer]
    /// Selection fractions ρ probed.
    public var selectFractions: [Double] = [TrainingOptions().selectFraction]
    /// Pools of the candidate stream on which exit layers' fidelity is measured.
    public var fidelityPools: Int = 16
    /// The metric the verdict follows (both are measured and predicted).
    public var metric: ProbeGain.Metric = .accuracy

    public init() {}

    /// 3N/4: the budget of vanilla's short run and of every selecting run.
    public var shortSteps: Int { probeSteps * 3 / 4 }

    /// The first problem with the plan for a model of `numLayers` layers, or nil.
    public func validationError(numLayers: Int) -> String? {
        if probeSteps < 8 { return "--probe-steps must be at least 8 (got \(probeSteps))" }
        if seeds.isEmpty { return "--seeds needs at least one seed" }
        if Set(seeds).count != seeds.count { return "--seeds lists a seed twice" }
        if exitLayers.isEmpty || selectFractions.isEmpty { return "--exit-layers and --select-fractions need at least one value" }
        if let bad = exitLayers.first(where: { !(1...numLayers).contains($0) }) {
            return "--exit-layers: \(bad) is not a layer of the model's \(numLayers)"
        }
        if let bad = selectFractions.first(where: { !($0 > 0 && $0 < 1) }) {
            return "--select-fractions must each be in (0, 1) (got \(bad); 1 selects nothing)"
        }
        if fidelityPools < 1 { return "--fidelity-pools must be at least 1 (got \(fidelityPools))" }
        return nil
    }
}
