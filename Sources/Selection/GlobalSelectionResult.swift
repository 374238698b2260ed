/// The outcome of one step's global selection, identical on every rank.
public struct GlobalSelectionResult: Sendable {
    /// Positions (into the global pool) of the selected candidates, increasing.
    public var selectedPositions: [Int]
    /// The smallest selected score (the b-th largest under `top`), or nil when nothing was scored.
    public var threshold: Float?
    /// How many selected candidates came from each rank's share of the pool (before rebalancing).
    public var selectedPerRank: [Int]
    /// Every candidate's approximate loss in pool order (empty for `vanilla`).
    public var poolLosses: [Float]
    /// What the rule ranked by, in pool order (the losses, or the reducible scores).
    public var poolScores: [Float] = []
    /// Mean of the pool's finite losses and of the selected candidates' (nil when there are none).
    public var meanCandidateLoss: Double? = nil
    public var meanSelectedLoss: Double? = nil
    /// Pool losses that are NaN or −∞, and that are +∞ (a `last-loss` candidate never backpropagated).
    public var invalidLosses = 0
    public var infiniteLosses = 0

    public init(
        selectedPositions: [Int], threshold: Float?, selectedPerRank: [Int], poolLosses: [Float],
        poolScores: [Float] = []
    ) {
        self.selectedPositions = selectedPositions
        self.threshold = threshold
        self.selectedPerRank = selectedPerRank
        self.poolLosses = poolLosses
        self.poolScores = poolScores
    }

    /// Max over ranks of selected count divided by the mean: 1 is perfectly balanced.
    public var imbalance: Double {
        let total = selectedPerRank.reduce(0, +)
        guard total > 0, let mx = selectedPerRank.max() else { return 1 }
        return Double(mx) * Double(selectedPerRank.count) / Double(total)
    }
}
