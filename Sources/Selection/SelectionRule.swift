import Foundation

/// How a scored candidate pool of B is reduced to the b samples a step backpropagates.
///
/// Every rule is a pure function of the pool's scores (identical on every rank after the
/// allgather), the global sample indices and (seed, step), so the selection does not depend on the
/// number of ranks.
public enum SelectionRule: String, CaseIterable, Sendable, Codable {
    /// The paper's greedy rule: the b largest scores (ties by the smaller global index).
    case top
    /// Selective-Backprop / SageMaker smart sifting: each candidate's weight is the percentile of its
    /// score within a rolling history of recent scores, raised to β; b are drawn without replacement
    /// with probability proportional to the weights (Efraimidis–Spirakis keys). Keeps the batch
    /// close to unbiased while leaning towards the currently hard samples.
    case relative
    /// b drawn without replacement with probability proportional to the raw score (a loss).
    case proportional
}

extension TopSelection {
    /// Selective-Backprop weights: percentile of each score in `history`, raised to `beta` (> 0).
    /// Under a stationary score distribution the expected weight is 1/(1+β), the share of candidates
    /// smart sifting keeps.
    public static func relativeWeights(scores: [Float], history: ScoreHistory, beta: Double) -> [Float] {
        history.percentiles(of: scores).map { Float(pow($0, beta)) }
    }

    /// Positions of the `count` candidates that `rule` keeps, increasing.
    ///
    /// - Parameters:
    ///   - scores: one score per pool candidate, the same on every rank.
    ///   - history: for `relative`, the score history *including* this pool's scores.
    ///   - beta: the exponent of `relative`.
    ///   - seed, step: key the random draws of `relative` and `proportional`.
    public static func select(
        rule: SelectionRule, scores: [Float], globalIndices: [Int], count: Int,
        history: ScoreHistory?, beta: Double, seed: UInt64, step: Int
    ) -> [Int] {
        switch rule {
        case .top:
            return top(scores: scores, globalIndices: globalIndices, count: count)
        case .proportional:
            return top(
                scores: proportionalKeys(weights: scores, globalIndices: globalIndices, seed: seed, step: step),
                globalIndices: globalIndices, count: count)
        case .relative:
            let weights = relativeWeights(
                scores: scores, history: history ?? ScoreHistory(capacity: max(1, scores.count), values: scores),
                beta: beta)
            return top(
                scores: proportionalKeys(weights: weights, globalIndices: globalIndices, seed: seed, step: step),
                globalIndices: globalIndices, count: count)
        }
    }
}
