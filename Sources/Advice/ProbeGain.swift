/// The arithmetic of the equal-schedule probe: how many of vanilla's steps a selecting run saves per
/// backpropagated sample, and what that predicts for wall-clock time, on either validation metric.
/// `sift advise` computes it here (`tools/stages_report.py` prices its stage probes with the same formula
/// in Python, on loss).
public enum ProbeGain {
    /// A final validation metric the probe compares runs on, and the direction in which it improves.
    public enum Metric: String, Codable, Sendable, CaseIterable {
        /// Masked-token accuracy (fraction): higher is better. The paper's metric (time to a target accuracy).
        case accuracy
        /// Mean cross-entropy over masked tokens (nats): lower is better.
        case loss

        /// Whether a higher value is an improvement.
        public var higherIsBetter: Bool { self == .accuracy }
    }

    /// n*: the step budget at which vanilla's final validation `metric` would equal `value`, on the straight
    /// line through its two measured budgets (`short`, `shortValue`) and (`full`, `fullValue`), each a run
    /// with its own schedule. Nil when vanilla did not improve from the short to the full budget (loss did not
    /// fall, accuracy did not rise: the line then says nothing about budgets) or the line reaches `value` only
    /// at a budget ≤ 0.
    public static func matchingSteps(
        _ metric: Metric, value: Double, short: Int, shortValue: Double, full: Int,
        fullValue: Double
    ) -> Double? {
        let improved = metric.higherIsBetter ? fullValue > shortValue : fullValue < shortValue
        guard full > short, improved, value.isFinite else { return nil }
        let n = Double(short) + (value - shortValue) * Double(full - short) / (fullValue - shortValue)
        return n > 0 ? n : nil
    }

    /// The gain per backpropagated sample, 1 − short / n*: the share of vanilla's steps that a selecting run
    /// of `short` steps, ending at `selecting`, saves to reach the same `metric` (negative: it needs more).
    public static func gain(
        _ metric: Metric, selecting: Double, short: Int, shortValue: Double, full: Int,
        fullValue: Double
    ) -> Double? {
        matchingSteps(metric, value: selecting, short: short, shortValue: shortValue, full: full, fullValue: fullValue)
            .map { gain(matchingSteps: $0, short: short) }
    }

    /// 1 − short / n*.
    public static func gain(matchingSteps n: Double, short: Int) -> Double { 1 - Double(short) / n }

    /// Whether n* lies outside the measured budgets [short, full], so that the gain is extrapolated.
    public static func isExtrapolated(matchingSteps n: Double, short: Int, full: Int) -> Bool {
        n < Double(short) || n > Double(full)
    }

    /// The predicted wall-clock ratio (selection's time to vanilla's value) / (vanilla's time) of a run that
    /// saves `gain` of the steps and pays `overhead` more per step: (1 − gain)(1 + overhead).
    public static func ratio(gain: Double, overhead: Double) -> Double { (1 - gain) * (1 + overhead) }

    /// The gain per sample at which selection breaks even for a step overhead: o / (1 + o).
    public static func breakEven(overhead: Double) -> Double { overhead / (1 + overhead) }
}
