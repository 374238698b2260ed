/// How well approximate (early-exit) losses preserve the ordering of exact losses: the quantity the
/// SIFT paper's speed-up depends on.
public enum SelectionFidelity {
    /// How well one ranking of a pool agrees with the exact one.
    public struct Agreement: Sendable, Equatable {
        /// Spearman correlation (nil: undefined, a side without spread); a mean over pools where it is defined.
        public var spearman: Double?
        /// Share of the approximate top b that is in the exact top b; a mean over pools.
        public var topOverlap: Double

        public init(spearman: Double?, topOverlap: Double) {
            self.spearman = spearman
            self.topOverlap = topOverlap
        }
    }

    /// The one fidelity computation: Spearman correlation and top-`count` overlap of a pool's
    /// `approximate` losses with its `exact` losses (`globalIndices` break ties as the selection does).
    public static func agreement(approximate: [Float], exact: [Float], globalIndices: [Int], count: Int) -> Agreement {
        Agreement(
            spearman: spearman(approximate, exact),
            topOverlap: topOverlap(approximate: approximate, exact: exact, globalIndices: globalIndices, count: count))
    }

    /// Ranks 1…n of `values`, ties given the average of the ranks they span (as Spearman's ρ needs).
    public static func averageRanks(_ values: [Float]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = rank }
            i = j + 1
        }
        return ranks
    }

    /// Spearman's rank correlation: the Pearson correlation of the average ranks. Nil when either
    /// side has no spread (all values equal) or fewer than two values.
    public static func spearman(_ a: [Float], _ b: [Float]) -> Double? {
        precondition(a.count == b.count, "spearman: lengths differ")
        guard a.count >= 2 else { return nil }
        let ra = averageRanks(a), rb = averageRanks(b)
        let n = Double(a.count)
        let ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
        var cov = 0.0, va = 0.0, vb = 0.0
        for i in ra.indices {
            cov += (ra[i] - ma) * (rb[i] - mb)
            va += (ra[i] - ma) * (ra[i] - ma)
            vb += (rb[i] - mb) * (rb[i] - mb)
        }
        guard va > 0, vb > 0 else { return nil }
        return cov / (va * vb).squareRoot()
    }

    /// Fraction of the top `count` by `approximate` that is also in the top `count` by `exact`
    /// (ties broken by global index, as the selection does).
    public static func topOverlap(approximate: [Float], exact: [Float], globalIndices: [Int], count: Int) -> Double {
        guard count > 0 else { return 1 }
        let a = Set(TopSelection.top(scores: approximate, globalIndices: globalIndices, count: count))
        let e = Set(TopSelection.top(scores: exact, globalIndices: globalIndices, count: count))
        return Double(a.intersection(e).count) / Double(count)
    }
}
