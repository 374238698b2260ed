/// The arithmetic of the equal-schedule probe: how many of vanilla's steps a selecting run saves per
/// backpropagated sample, and what that predicts for wall-clock time. `sift advise` and
/// `tools/stages_report.py` (through `sift advise --analyse`) both compute it here.
public enum ProbeGain {
    /// n*: the step budget at which vanilla's final validation loss would equal `loss`, on the straight
    /// line through its two measured budgets (`short`, `shortLoss`) and (`full`, `fullLoss`), each a run
    /// with its own schedule. Nil when vanilla's loss did not fall from the short to the full budget (the
    /// line then says nothing about budgets) or the line reaches `loss` only at a budget ≤ 0.
    public static func matchingSteps(loss: Double, short: Int, shortLoss: Double, full: Int, fullLoss: Double) -> Double? {
        guard full > short, fullLoss < shortLoss, loss.isFinite else { return nil }
        let n = Double(short) + (loss - shortLoss) * Double(full - short) / (fullLoss - shortLoss)
        return n > 0 ? n : nil
    }

    /// The gain per backpropagated sample, 1 − short / n*: the share of vanilla's steps that a selecting run
    /// of `short` steps saves to reach the same loss (negative: it needs more).
    public static func gain(selectingLoss: Double, short: Int, shortLoss: Double, full: Int, fullLoss: Double) -> Double? {
        matchingSteps(loss: selectingLoss, short: short, shortLoss: shortLoss, full: full, fullLoss: fullLoss)
            .map { 1 - Double(short) / $0 }
    }

    /// Whether n* lies outside the measured budgets [short, full], so that the gain is extrapolated.
    public static func isExtrapolated(matchingSteps n: Double, short: Int, full: Int) -> Bool {
        n < Double(short) || n > Double(full)
    }

    /// The predicted wall-clock ratio (selection's time to vanilla's loss) / (vanilla's time) of a run that
    /// saves `gain` of the steps and pays `overhead` more per step: (1 − gain)(1 + overhead).
    public static func ratio(gain: Double, overhead: Double) -> Double { (1 - gain) * (1 + overhead) }

    /// The gain per sample at which selection breaks even for a step overhead: o / (1 + o).
    public static func breakEven(overhead: Double) -> Double { overhead / (1 + overhead) }
}
