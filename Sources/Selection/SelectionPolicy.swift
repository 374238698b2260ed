/// Which candidates a training step backpropagates.
public enum SelectionPolicy: String, CaseIterable, Sendable, Codable {
    /// Score candidates with the early-exit loss at the exit layer and keep the global top b (SIFT).
    case sift
    /// Score candidates with the exact loss (exit at the last layer) and keep the global top b
    /// (the selective-backprop baseline).
    case exact
    /// No scoring: the pool is exactly the b samples backpropagated (plain data-parallel training).
    case vanilla
    /// Shorthand for `sift` scoring with the `proportional` rule: b candidates drawn without replacement
    /// with probability proportional to the approximate loss.
    case proportional
    /// No scoring forward: each candidate is ranked by its own training loss from the last step that
    /// backpropagated it (Selective-Backprop's stale variant taken to its limit, at no scoring cost);
    /// a candidate never backpropagated ranks above every recorded loss (+∞). Only multi-epoch runs give
    /// it anything to select by: a sample's loss is recorded on its first pass.
    case lastLoss = "last-loss"

    /// Whether candidates get a scoring forward (at the exit layer, or the last for `exact`).
    public var scores: Bool { self != .vanilla && self != .lastLoss }
    /// Whether a pool larger than b is reduced to b (every policy but `vanilla`): the one test of "does
    /// this policy select?".
    public var selects: Bool { self != .vanilla }

    /// Candidates per step for `batchSize` backpropagated samples at selection fraction ρ before rounding:
    /// b/ρ, or b for a policy that does not select.
    public func exactPoolSize(batchSize: Int, selectFraction: Double) -> Double {
        selects ? Double(batchSize) / selectFraction : Double(batchSize)
    }

    /// Candidates per selecting step, B: `exactPoolSize` rounded to the nearest integer (b for `vanilla`).
    public func poolSize(batchSize: Int, selectFraction: Double) -> Int {
        Int(exactPoolSize(batchSize: batchSize, selectFraction: selectFraction).rounded())
    }

    /// The rule this policy reduces a pool with when `chosen` was asked for (`--selection`): nil for
    /// `vanilla` (the pool is the batch), `proportional` for the `proportional` policy, else `chosen`.
    public func rule(choosing chosen: SelectionRule) -> SelectionRule? {
        switch self {
        case .vanilla: return nil
        case .proportional: return .proportional
        case .sift, .exact, .lastLoss: return chosen
        }
    }
}
