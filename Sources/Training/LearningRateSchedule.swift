/// Linear warm-up from 0 to the peak rate over `warmupSteps`, then linear decay to 0 at `totalSteps`.
public struct LearningRateSchedule: Sendable, Equatable {
    public let peak: Float
    public let warmupSteps: Int
    public let totalSteps: Int
    /// The last step at the peak rate; the rate then decays linearly to 0 at `totalSteps`.
    /// Equal to `warmupSteps` for a step-based schedule; later when the length is fitted to a time
    /// budget after calibration steps (the rate stays at its peak until the length is known).
    public let decayStart: Int
    /// The rate at `decayStart` from which the linear decay starts: `peak`, or lower when a budget-fitted
    /// schedule was re-fitted part-way through its decay.
    public let decayStartRate: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, decayStart: Int? = nil, decayStartRate: Float? = nil) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decayStart = decayStart ?? warmupSteps
        self.decayStartRate = decayStartRate ?? peak
    }

    /// A schedule whose length is not known yet: linear warm-up, then the peak rate.
    public static func open(peak: Float, warmupSteps: Int) -> LearningRateSchedule {
        LearningRateSchedule(peak: peak, warmupSteps: warmupSteps, totalSteps: Int.max, decayStart: Int.max)
    }

    /// The rate for optimizer step `step` (1-based): linear warm-up to `peak` over `warmupSteps`,
    /// `peak` before `decayStart`, `decayStartRate` at it, then linear decay reaching 0 at `totalSteps`
    /// (a re-fitted schedule describes the steps from its `decayStart` on).
    public func rate(at step: Int) -> Float {
        if warmupSteps > 0 && step <= warmupSteps { return peak * Float(step) / Float(warmupSteps) }
        if step < decayStart { return peak }
        if step == decayStart { return decayStartRate }
        let remaining = max(0, totalSteps - step)
        let span = max(1, totalSteps - max(warmupSteps, decayStart))
        return decayStartRate * Float(remaining) / Float(span)
    }
}
