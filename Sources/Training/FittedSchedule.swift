/// A learning-rate schedule length fixed after calibration steps (see `TrainingOptions.fitsScheduleToBudget`).
public struct FittedSchedule: Codable, Equatable, Sendable {
    public var totalSteps: Int
    /// The step of the (last) fit; the rate decays linearly from there.
    public var decayStart: Int
    /// The rate at `decayStart` (nil: the peak, the first fit).
    public var startRate: Float?
    /// Training seconds (the agreed clock) at `decayStart`, from which a re-fit measures the step time
    /// (nil in checkpoints written before re-fits existed).
    public var fittedAt: Double?
    public init(totalSteps: Int, decayStart: Int, startRate: Float? = nil, fittedAt: Double? = nil) {
        self.totalSteps = totalSteps
        self.decayStart = decayStart
        self.startRate = startRate
        self.fittedAt = fittedAt
    }
}
