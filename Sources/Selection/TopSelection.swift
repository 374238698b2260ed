import Core
import Foundation

/// The serial selection rule every rank applies to the same global candidate list, and its
/// deterministic tie-breaking.
public enum TopSelection {
    /// Positions of the `count` largest `scores`, ties broken by the smaller `globalIndices` value
    /// (and, for a sample drawn twice into one pool, the earlier position), returned in increasing
    /// position order. −0 and +0 tie.
    ///
    /// - Parameters:
    ///   - scores: one score per candidate (NaN is not allowed; callers reject it first).
    ///   - globalIndices: the global sample index of each candidate, same length as `scores`.
    ///   - count: how many to keep, `0...scores.count`.
    public static func top(scores: [Float], globalIndices: [Int], count: Int) -> [Int] {
        precondition(scores.count == globalIndices.count, "scores and indices differ in length")
        precondition(count >= 0 && count <= scores.count, "selection count out of range")
        var order = Array(scores.indices)
        order.sort { a, b in
            if scores[a] != scores[b] { return scores[a] > scores[b] }
            if globalIndices[a] != globalIndices[b] { return globalIndices[a] < globalIndices[b] }
            return a < b
        }
        return Array(order.prefix(count)).sorted()
    }

    /// Efraimidis–Spirakis keys for weighted sampling without replacement: taking the `b` largest
    /// keys `log(u) / w` draws `b` items with probability proportional to `w`. `u` is uniform in
    /// (0, 1) from a hash of (seed, step, global index), so the draw does not depend on which rank
    /// holds which candidate.
    public static func proportionalKeys(weights: [Float], globalIndices: [Int], seed: UInt64, step: Int) -> [Float] {
        var keys = [Float](repeating: 0, count: weights.count)
        for i in weights.indices {
            let u = CounterHash.uniform(seed, UInt64(step), UInt64(globalIndices[i]), RandomStream.selectionDraw.rawValue)
            let w = max(Double(weights[i]), 1e-12)
            keys[i] = Float(log(u) / w)
        }
        return keys
    }
}
