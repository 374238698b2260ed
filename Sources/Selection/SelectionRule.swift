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

/// What a candidate is ranked by.
public enum ScoreKind: String, CaseIterable, Sendable, Codable {
    /// The (approximate) MLM loss of the sample's masked tokens.
    case loss
    /// Reducible loss in the spirit of RHO-LOSS: the loss minus a free reference loss of the same
    /// masked labels (their mean −log unigram frequency in the training shards), so content that is
    /// hard only because it is rare does not crowd out what the model can still learn.
    case reducible
}

/// A rolling window of the last `capacity` candidate scores, oldest first.
///
/// It is built from the allgathered pool scores, so it is the same on every rank, and it is saved in
/// checkpoints so that a resumed run selects exactly as an uninterrupted one.
public struct ScoreHistory: Sendable, Equatable, Codable {
    public let capacity: Int
    public private(set) var values: [Float]

    public init(capacity: Int, values: [Float] = []) {
        precondition(capacity >= 1, "history capacity must be at least 1")
        self.capacity = capacity
        self.values = Array(values.suffix(capacity))
    }

    /// Appends `scores` in order, dropping the oldest beyond `capacity`.
    public mutating func append(_ scores: [Float]) {
        values.append(contentsOf: scores)
        if values.count > capacity { values.removeFirst(values.count - capacity) }
    }

    /// Mid-rank percentile of each score within the history: (#values < x + ½·#values == x) / count,
    /// in (0, 1] when x is in the history. An empty history gives ½ for every score.
    public func percentiles(of scores: [Float]) -> [Double] {
        guard !values.isEmpty else { return scores.map { _ in 0.5 } }
        let sorted = values.sorted()
        let n = Double(sorted.count)
        return scores.map { x in
            let below = lowerBound(sorted, x), upTo = upperBound(sorted, x)
            return (Double(below) + 0.5 * Double(upTo - below)) / n
        }
    }

    private func lowerBound(_ a: [Float], _ x: Float) -> Int {
        var lo = 0, hi = a.count
        while lo < hi { let mid = (lo + hi) / 2; if a[mid] < x { lo = mid + 1 } else { hi = mid } }
        return lo
    }

    private func upperBound(_ a: [Float], _ x: Float) -> Int {
        var lo = 0, hi = a.count
        while lo < hi { let mid = (lo + hi) / 2; if a[mid] <= x { lo = mid + 1 } else { hi = mid } }
        return lo
    }
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
    public static func select(rule: SelectionRule, scores: [Float], globalIndices: [Int], count: Int,
                              history: ScoreHistory?, beta: Double, seed: UInt64, step: Int) -> [Int] {
        switch rule {
        case .top:
            return top(scores: scores, globalIndices: globalIndices, count: count)
        case .proportional:
            return top(scores: proportionalKeys(weights: scores, globalIndices: globalIndices, seed: seed, step: step),
                       globalIndices: globalIndices, count: count)
        case .relative:
            let weights = relativeWeights(scores: scores, history: history ?? ScoreHistory(capacity: max(1, scores.count), values: scores),
                                          beta: beta)
            return top(scores: proportionalKeys(weights: weights, globalIndices: globalIndices, seed: seed, step: step),
                       globalIndices: globalIndices, count: count)
        }
    }
}
