import Core

/// Scoring from fewer masked positions (`sift train --score-positions K`).
public enum ScoringPositions {
    /// Keeps at most `limit` of the labelled positions of one sequence and sets the others to
    /// `MLMBatch.ignoredLabel`, in place. The kept ones are those with the smallest
    /// `CounterHash.bits(key, RandomStream.keptPosition, sample, t)`, so the choice depends on the key and the sample's
    /// global index only — not on the rank or batch slot — and is a uniform random subset: the mean
    /// loss over it is an unbiased estimate of the mean over all masked positions.
    ///
    /// O(limit · count) time, no allocation (it runs inside the training step).
    /// - Parameters:
    ///   - labels: the sequence's `count` labels.
    ///   - sample: the sample's global index.
    ///   - key: e.g. a hash of (seed, step); the same on every rank.
    /// - Returns: the number of labelled positions left.
    @discardableResult
    public static func keep(
        atMost limit: Int, labels: UnsafeMutablePointer<Int32>, count: Int,
        sample: Int, key: UInt64
    ) -> Int {
        precondition(limit >= 1, "keep at least one position")
        var masked = 0
        for t in 0..<count where labels[t] != MLMBatch.ignoredLabel { masked += 1 }
        guard masked > limit else { return masked }
        let salt = RandomStream.keptPosition.rawValue
        @inline(__always) func h(_ t: Int) -> UInt64 { CounterHash.bits(key, salt, UInt64(sample), UInt64(t)) }
        // The limit-th smallest hash among labelled positions, by `limit` scans (limit is small).
        var bound: UInt64 = 0
        var haveBound = false
        for _ in 0..<limit {
            var next = UInt64.max
            for t in 0..<count where labels[t] != MLMBatch.ignoredLabel {
                let v = h(t)
                if (!haveBound || v > bound) && v <= next { next = v }
            }
            bound = next
            haveBound = true
        }
        var kept = 0
        for t in 0..<count where labels[t] != MLMBatch.ignoredLabel {
            if h(t) <= bound { kept += 1 } else { labels[t] = MLMBatch.ignoredLabel }
        }
        return kept
    }
}
