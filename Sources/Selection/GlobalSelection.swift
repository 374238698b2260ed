import Communication

/// Agrees on the global top-b candidates across ranks.
///
/// Each rank scores a contiguous share of the global pool (`share(rank:)`); one `MPI_Allgatherv`
/// of those losses (B floats in total, 4·B bytes received per rank per step) gives every rank the
/// whole pool's losses, and every rank then applies the same serial rule (`TopSelection`). The
/// result is therefore exactly a serial top-b over all candidates, ties included, at any rank count.
/// For the `top` rule the threshold exchange (`selectByThreshold`) reaches the same selection
/// without gathering the losses.
public struct GlobalSelection {
    public let communicator: any Collectives

    public init(communicator: any Collectives) { self.communicator = communicator }

    /// The contiguous range of pool positions rank `rank` of `size` scores: sizes differ by at most one.
    public static func share(poolSize: Int, rank: Int, size: Int) -> Range<Int> {
        (poolSize * rank / size)..<(poolSize * (rank + 1) / size)
    }

    /// The largest `share` of `poolSize` candidates over `size` ranks, ⌈poolSize / size⌉: what the busiest
    /// rank scores (or, of a batch, backpropagates).
    public static func largestShare(poolSize: Int, size: Int) -> Int {
        let p = max(size, 1)
        return (poolSize + p - 1) / p
    }

    /// Selects `count` of the pool's candidates by `rule` applied to the losses (nil: keep the whole pool).
    ///
    /// - Parameters:
    ///   - localLosses: this rank's approximate losses for its share of the pool, in pool order.
    ///   - pool: global sample indices of the whole pool (the same on every rank).
    ///   - count: b, how many to keep.
    ///   - seed, step: key the random draw of `proportional`.
    public func select(
        localLosses: [Float], pool: [Int], count: Int, rule: SelectionRule?,
        seed: UInt64, step: Int
    ) -> GlobalSelectionResult {
        var history: ScoreHistory? = nil
        return select(
            localLosses: localLosses, localScores: nil, pool: pool, count: count, rule: rule,
            history: &history, beta: 1, seed: seed, step: step)
    }

    /// Selects `count` of the pool's candidates by `rule`.
    ///
    /// One `MPI_Allgatherv` carries each candidate's loss and, when given, its selection score
    /// (interleaved, 8 bytes per candidate), so every rank holds the whole pool's and applies the
    /// same serial rule.
    ///
    /// - Parameters:
    ///   - localLosses: this rank's approximate losses for its share of the pool, in pool order.
    ///   - localScores: what the rule ranks by, same length (nil: the losses themselves).
    ///   - rule: how the pool is reduced; nil keeps the whole pool without communicating (vanilla).
    ///   - history: the rolling score history of `relative`; the pool's scores are appended to it
    ///     (before the percentiles are taken) whatever the rule, so a rule change keeps it warm.
    ///   - beta: the exponent of `relative`.
    ///   - seed, step: key the random draws of `relative` and `proportional`.
    ///   - exchange: `threshold` selects `top` by `selectByThreshold` (when no history is kept); every
    ///     other case allgathers.
    public func select(
        localLosses: [Float], localScores: [Float]?, pool: [Int], count: Int,
        rule: SelectionRule?, history: inout ScoreHistory?, beta: Double,
        seed: UInt64, step: Int, exchange: SelectionExchange = .allgather
    ) -> GlobalSelectionResult {
        let p = communicator.size
        guard let rule else {
            let perRank = (0..<p).map { GlobalSelection.share(poolSize: pool.count, rank: $0, size: p).count }
            return GlobalSelectionResult(
                selectedPositions: Array(pool.indices), threshold: nil,
                selectedPerRank: perRank, poolLosses: [], poolScores: [])
        }
        if exchange == .threshold && rule == .top && history == nil {
            return selectByThreshold(localLosses: localLosses, localScores: localScores, pool: pool, count: count)
        }
        let losses: [Float], scores: [Float]
        if let localScores {
            precondition(localScores.count == localLosses.count, "one score per loss")
            var pairs = [Float](repeating: 0, count: 2 * localLosses.count)
            for i in localLosses.indices {
                pairs[2 * i] = localLosses[i]
                pairs[2 * i + 1] = localScores[i]
            }
            let all = communicator.allgatherv(pairs)
            losses = stride(from: 0, to: all.count, by: 2).map { all[$0] }
            scores = stride(from: 1, to: all.count, by: 2).map { all[$0] }
        } else {
            losses = communicator.allgatherv(localLosses)
            scores = losses
        }
        precondition(losses.count == pool.count, "gathered \(losses.count) losses for a pool of \(pool.count)")
        if history != nil { history!.append(scores) }
        let selected = TopSelection.select(
            rule: rule, scores: scores, globalIndices: pool, count: count,
            history: history, beta: beta, seed: seed, step: step)
        var perRank = [Int](repeating: 0, count: p)
        for r in 0..<p {
            let share = GlobalSelection.share(poolSize: pool.count, rank: r, size: p)
            perRank[r] = selected.lazy.filter { share.contains($0) }.count
        }
        // +∞ (a `last-loss` candidate never backpropagated) is no threshold; −0 is reported as 0, as the
        // threshold exchange's key (which does not tell the zeros apart) reports it.
        let threshold = selected.map { scores[$0] }.min().flatMap { $0.isFinite ? ($0 == 0 ? 0 : $0) : nil }
        var result = GlobalSelectionResult(
            selectedPositions: selected, threshold: threshold,
            selectedPerRank: perRank, poolLosses: losses, poolScores: scores)
        result.meanCandidateLoss = GlobalSelection.finiteMean(losses)
        result.meanSelectedLoss = GlobalSelection.finiteMean(selected.map { losses[$0] })
        result.invalidLosses = losses.lazy.filter { !$0.isFinite && $0 != .infinity }.count
        result.infiniteLosses = losses.lazy.filter { $0 == .infinity }.count
        return result
    }

    /// Mean of the finite values, summed in order in double precision (nil when there are none).
    static func finiteMean(_ xs: [Float]) -> Double? {
        let finite = xs.filter(\.isFinite)
        return finite.isEmpty ? nil : finite.reduce(0.0) { $0 + Double($1) } / Double(finite.count)
    }

    /// The selected pool positions that `rank` backpropagates.
    ///
    /// With `rebalance`, the selected list is cut into `size` contiguous pieces whose sizes differ by
    /// at most one (any rank can read any sample by global index, so moving work costs no data
    /// transfer). Without it, a rank backpropagates the selected candidates of its own share.
    public static func assignment(
        _ result: GlobalSelectionResult, poolSize: Int, rank: Int, size: Int,
        rebalance: Bool
    ) -> [Int] {
        let selected = result.selectedPositions
        if rebalance {
            return Array(selected[share(poolSize: selected.count, rank: rank, size: size)])
        }
        let mine = share(poolSize: poolSize, rank: rank, size: size)
        return selected.filter { mine.contains($0) }
    }
}
