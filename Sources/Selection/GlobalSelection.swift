import Communication

/// The outcome of one step's global selection, identical on every rank.
public struct GlobalSelectionResult: Sendable {
    /// Positions (into the global pool) of the selected candidates, increasing.
    public var selectedPositions: [Int]
    /// The smallest score that made the cut (the b-th largest), or nil when nothing was scored.
    public var threshold: Float?
    /// How many selected candidates came from each rank's share of the pool (before rebalancing).
    public var selectedPerRank: [Int]
    /// Every candidate's approximate loss in pool order (empty for `vanilla`).
    public var poolLosses: [Float]

    /// Max over ranks of selected count divided by the mean: 1 is perfectly balanced.
    public var imbalance: Double {
        let total = selectedPerRank.reduce(0, +)
        guard total > 0, let mx = selectedPerRank.max() else { return 1 }
        return Double(mx) * Double(selectedPerRank.count) / Double(total)
    }
}

/// Agrees on the global top-b candidates across ranks.
///
/// Each rank scores a contiguous share of the global pool (`share(rank:)`); one `MPI_Allgatherv`
/// of those losses (B floats in total, 4·B bytes received per rank per step) gives every rank the
/// whole pool's losses, and every rank then applies the same serial rule (`TopSelection`). The
/// result is therefore exactly a serial top-b over all candidates, ties included, at any rank count.
public struct GlobalSelection {
    public let communicator: Communicator

    public init(communicator: Communicator) { self.communicator = communicator }

    /// The contiguous range of pool positions rank `rank` of `size` scores: sizes differ by at most one.
    public static func share(poolSize: Int, rank: Int, size: Int) -> Range<Int> {
        (poolSize * rank / size)..<(poolSize * (rank + 1) / size)
    }

    /// Selects `count` of the pool's candidates.
    ///
    /// - Parameters:
    ///   - localLosses: this rank's approximate losses for its share of the pool, in pool order.
    ///   - pool: global sample indices of the whole pool (the same on every rank).
    ///   - count: b, how many to keep.
    ///   - policy: `sift`/`exact` keep the top b losses; `proportional` samples by loss; `vanilla` keeps all.
    ///   - seed, step: key the random draw of `proportional`.
    public func select(localLosses: [Float], pool: [Int], count: Int, policy: SelectionPolicy,
                       seed: UInt64, step: Int) -> GlobalSelectionResult {
        let p = communicator.size
        if policy == .vanilla {
            let perRank = (0..<p).map { GlobalSelection.share(poolSize: pool.count, rank: $0, size: p).count }
            return GlobalSelectionResult(selectedPositions: Array(pool.indices), threshold: nil,
                                         selectedPerRank: perRank, poolLosses: [])
        }
        let losses = communicator.allgatherv(localLosses)
        precondition(losses.count == pool.count, "gathered \(losses.count) losses for a pool of \(pool.count)")
        let scores = policy == .proportional
            ? TopSelection.proportionalKeys(weights: losses, globalIndices: pool, seed: seed, step: step)
            : losses
        let selected = TopSelection.top(scores: scores, globalIndices: pool, count: count)
        var perRank = [Int](repeating: 0, count: p)
        for r in 0..<p {
            let share = GlobalSelection.share(poolSize: pool.count, rank: r, size: p)
            perRank[r] = selected.lazy.filter { share.contains($0) }.count
        }
        let threshold = selected.map { losses[$0] }.min()
        return GlobalSelectionResult(selectedPositions: selected, threshold: threshold,
                                     selectedPerRank: perRank, poolLosses: losses)
    }

    /// The selected pool positions that `rank` backpropagates.
    ///
    /// With `rebalance`, the selected list is cut into `size` contiguous pieces whose sizes differ by
    /// at most one (any rank can read any sample by global index, so moving work costs no data
    /// transfer). Without it, a rank backpropagates the selected candidates of its own share.
    public static func assignment(_ result: GlobalSelectionResult, poolSize: Int, rank: Int, size: Int,
                                  rebalance: Bool) -> [Int] {
        let selected = result.selectedPositions
        if rebalance {
            return Array(selected[share(poolSize: selected.count, rank: rank, size: size)])
        }
        let mine = share(poolSize: poolSize, rank: rank, size: size)
        return selected.filter { mine.contains($0) }
    }
}
