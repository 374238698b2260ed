/// Measured compute costs of one rank, the inputs that do not depend on the number of ranks.
public struct ComputeProfile: Sendable, Equatable {
    /// Seconds of forward and backward per backpropagated sample.
    public var forwardBackwardPerSample: Double
    /// Seconds of early-exit scoring per candidate (0 for vanilla-only use).
    public var scoringPerSample: Double
    /// Seconds of reading and masking per sample loaded (each candidate, and each selected sample again).
    public var dataPerSample: Double
    /// Seconds of the optimizer per step (gradient norm, clipping, AdamW): a pass over the whole
    /// replica, independent of the batch.
    public var optimizerPerStep: Double
    /// Fraction of forward+backward spent in backward: 2/3 by the FLOP count (backward runs two
    /// products per forward product).
    public var backwardFraction: Double

    public init(
        forwardBackwardPerSample: Double, scoringPerSample: Double, dataPerSample: Double = 0,
        optimizerPerStep: Double = 0, backwardFraction: Double = 2.0 / 3
    ) {
        self.forwardBackwardPerSample = forwardBackwardPerSample
        self.scoringPerSample = scoringPerSample
        self.dataPerSample = dataPerSample
        self.optimizerPerStep = optimizerPerStep
        self.backwardFraction = backwardFraction
    }
}
