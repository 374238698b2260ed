import Selection

/// Which step is projected.
public enum ProjectedPolicy: Sendable, Equatable {
    /// Every sample of the batch is backpropagated; no scoring, no loss exchange.
    case vanilla
    /// Score b/ρ candidates, exchange their losses, backpropagate the top b.
    case sift(selectFraction: Double)

    /// The step of `policy` at selection fraction ρ: `vanilla` backpropagates its batch, every selecting
    /// policy scores b/ρ candidates and exchanges their losses.
    public init(_ policy: SelectionPolicy, selectFraction: Double) {
        self = policy.selects ? .sift(selectFraction: selectFraction) : .vanilla
    }

    /// Whether the step scores a pool and selects from it (every policy but vanilla).
    public var selects: Bool { self != .vanilla }

    /// The policy whose step this is (`sift` for every selecting step).
    public var policy: SelectionPolicy {
        if case .sift = self { return .sift }
        return .vanilla
    }
}
