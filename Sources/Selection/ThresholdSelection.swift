import Communication

/// The pieces of the threshold exchange (`SelectionExchange.threshold`): an order-preserving integer
/// key of a score, and the pivots of each search round.
public enum ThresholdSelection {
    /// Pivots per round: one allreduce of their tallies narrows a search range 16-fold.
    public static let pivotsPerRound = 15
    /// Rounds that find the b-th largest 32-bit key: 32 bits, 4 per round.
    public static let keyRounds = 8

    /// A 32-bit key ordered as the scores are: `a > b` ⇔ `key(a) > key(b)` and `a == b` ⇔
    /// `key(a) == key(b)` for every non-NaN float, so −0 and +0 share one key (they compare equal, and
    /// `TopSelection` breaks their tie by global index). NaN gets 0, below −∞ (callers reject NaN).
    @inlinable
    public static func key(_ x: Float) -> UInt32 {
        if x.isNaN { return 0 }
        let bits = (x == 0 ? Float(0) : x).bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }

    /// The score of `key` (the inverse of `key(_:)`; −0 comes back as +0, key 0 as NaN).
    public static func score(ofKey key: UInt32) -> Float {
        Float(bitPattern: key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key)
    }

    /// Count, finite-loss sum and finite-loss count of a set of candidates, summed over ranks.
    struct Tally {
        var count = 0.0, lossSum = 0.0, finite = 0.0
        static func + (a: Tally, b: Tally) -> Tally {
            Tally(count: a.count + b.count, lossSum: a.lossSum + b.lossSum, finite: a.finite + b.finite)
        }
    }
}

extension GlobalSelection {
    /// The global top `count` by `localScores` (the losses when nil), ties broken by the smaller global
    /// index and then the earlier pool position — exactly `TopSelection.top` over the whole pool —
    /// without gathering the scores.
    ///
    /// Each score becomes a 32-bit key (`ThresholdSelection.key`). Rounds of one allreduce each count
    /// the candidates at or above 15 pivots and narrow the range 16-fold, until the b-th largest key T
    /// is found (8 rounds). If fewer than all candidates tied at T fit, the same search over their rank
    /// in (global index, position) order — computed by every rank from the pool alone — finds the cut
    /// (⌈log₁₆ B⌉ more rounds). Every rank then marks its selected candidates in a bitmask, one bit
    /// per candidate of its share, and one allgather of the masks gives every rank the selection.
    /// The loss means come from the rounds' tallies (per-rank partial sums, so their last bits may
    /// differ from the allgather's serial sums); the pool's losses are not gathered (`poolLosses` is
    /// empty).
    ///
    /// - Parameters:
    ///   - localLosses: this rank's losses for its share of the pool (`share(rank:)`), in pool order.
    ///   - localScores: what the rule ranks by, same length (nil: the losses).
    ///   - pool: global sample indices of the whole pool (the same on every rank).
    ///   - count: b, `0...pool.count`.
    public func selectByThreshold(localLosses: [Float], localScores: [Float]?, pool: [Int], count: Int) -> GlobalSelectionResult {
        let p = communicator.size, B = pool.count
        let share = GlobalSelection.share(poolSize: B, rank: communicator.rank, size: p)
        precondition(localLosses.count == share.count, "\(localLosses.count) losses for a share of \(share.count)")
        precondition(localScores == nil || localScores!.count == localLosses.count, "one score per loss")
        precondition(count >= 0 && count <= B, "selection count out of range")
        let scores = localScores ?? localLosses
        let keys = scores.map { UInt64(ThresholdSelection.key($0)) }

        // Losses that stop training (NaN or −∞; +∞ only `last-loss` allows) ride along in the first round.
        var invalid = 0.0, infinite = 0.0
        for x in localLosses where !x.isFinite { if x == .infinity { infinite += 1 } else { invalid += 1 } }
        var extra = [invalid, infinite]
        let (t, atOrAbove, above, all) = searchLargest(keys: keys, losses: localLosses, upper: 1 << 32, k: count, extra: &extra)
        let greater = Int(above.count), tied = Int(atOrAbove.count) - greater, wanted = count - greater

        var selectedTally = atOrAbove
        var tieKeys: [UInt64?] = Array(repeating: nil, count: keys.count)
        var tieCut: UInt64 = 0
        if wanted < tied {
            // Rank of every pool position in (global index, position) order; larger tie key = earlier.
            let order = pool.indices.sorted { pool[$0] != pool[$1] ? pool[$0] < pool[$1] : $0 < $1 }
            var tieKey = [UInt64](repeating: 0, count: B)
            for (k, position) in order.enumerated() { tieKey[position] = UInt64(B - 1 - k) }
            var mine: [UInt64] = [], mineLosses: [Float] = []
            for i in keys.indices where keys[i] == t {
                tieKeys[i] = tieKey[share.lowerBound + i]
                mine.append(tieKeys[i]!)
                mineLosses.append(localLosses[i])
            }
            var none: [Double] = []
            let cut = searchLargest(keys: mine, losses: mineLosses, upper: UInt64(B), k: wanted, extra: &none)
            tieCut = cut.threshold
            selectedTally = above + cut.atOrAbove
        }

        var mask = [UInt8](repeating: 0, count: (share.count + 7) / 8)
        for i in keys.indices where keys[i] > t || (keys[i] == t && (tieKeys[i].map { $0 >= tieCut } ?? true)) {
            mask[i >> 3] |= 1 << UInt8(i & 7)
        }
        let shares = (0..<p).map { GlobalSelection.share(poolSize: B, rank: $0, size: p) }
        let masks = communicator.allgatherv(bytes: mask, counts: shares.map { ($0.count + 7) / 8 })
        var selected: [Int] = [], perRank = [Int](repeating: 0, count: p), offset = 0
        selected.reserveCapacity(count)
        for (r, s) in shares.enumerated() {
            for i in 0..<s.count where masks[offset + (i >> 3)] & (1 << UInt8(i & 7)) != 0 {
                selected.append(s.lowerBound + i)
                perRank[r] += 1
            }
            offset += (s.count + 7) / 8
        }
        precondition(selected.count == count, "threshold exchange selected \(selected.count) of \(count)")

        let threshold = count == 0 ? nil : Optional(ThresholdSelection.score(ofKey: UInt32(t))).flatMap { $0.isFinite ? $0 : nil }
        var result = GlobalSelectionResult(
            selectedPositions: selected, threshold: threshold, selectedPerRank: perRank,
            poolLosses: [], poolScores: [])
        result.meanCandidateLoss = all.finite > 0 ? all.lossSum / all.finite : nil
        result.meanSelectedLoss = selectedTally.finite > 0 ? selectedTally.lossSum / selectedTally.finite : nil
        result.invalidLosses = Int(extra[0])
        result.infiniteLosses = Int(extra[1])
        return result
    }

    /// Over all ranks, the largest `threshold` in `0..<upper` with at least `k` keys ≥ it (there must
    /// be at least `k` keys in all), found by rounds of one allreduce of the tallies at 15 pivots.
    /// `extra` is summed over ranks in the first round. Returns the threshold and the tallies of the
    /// keys ≥ it, > it, and of all keys.
    func searchLargest(keys: [UInt64], losses: [Float], upper: UInt64, k: Int, extra: inout [Double])
        -> (threshold: UInt64, atOrAbove: ThresholdSelection.Tally, above: ThresholdSelection.Tally, all: ThresholdSelection.Tally)
    {
        typealias Tally = ThresholdSelection.Tally
        var lo: UInt64 = 0, hi = upper
        var atLo = Tally(), atHi = Tally(), all = Tally()
        var first = true
        repeat {
            // Points tallied this round: lo itself (for the totals) and up to 15 pivots strictly inside (lo, hi).
            let width = hi - lo
            var points: [UInt64] = [lo]
            for j in 1...UInt64(ThresholdSelection.pivotsPerRound) {
                let pivot = lo + width * j / UInt64(ThresholdSelection.pivotsPerRound + 1)
                if pivot > points.last! && pivot < hi { points.append(pivot) }
            }
            var v = [Double](repeating: 0, count: 3 * points.count)
            for i in keys.indices {
                let finite = losses[i].isFinite
                for j in points.indices {
                    guard keys[i] >= points[j] else { break }
                    v[3 * j] += 1
                    if finite {
                        v[3 * j + 1] += Double(losses[i])
                        v[3 * j + 2] += 1
                    }
                }
            }
            if first { v += extra }
            let sums = communicator.allreduceSum(v)
            if first {
                extra = Array(sums[(3 * points.count)...])
                all = Tally(count: sums[0], lossSum: sums[1], finite: sums[2])
                precondition(Int(all.count) >= k, "\(Int(all.count)) keys in all, fewer than \(k)")
                first = false
            }
            let tallies = points.indices.map { Tally(count: sums[3 * $0], lossSum: sums[3 * $0 + 1], finite: sums[3 * $0 + 2]) }
            atLo = tallies[0]
            // Counts fall as the pivot rises: the last pivot with ≥ k keys is the new lo, the next one the new hi.
            var j = 0
            while j + 1 < points.count && Int(tallies[j + 1].count) >= k { j += 1 }
            lo = points[j]
            atLo = tallies[j]
            if j + 1 < points.count {
                hi = points[j + 1]
                atHi = tallies[j + 1]
            }
        } while hi - lo > 1
        return (lo, atLo, atHi, all)
    }
}
