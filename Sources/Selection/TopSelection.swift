import Foundation

/// The serial selection rule every rank applies to the same global candidate list, and its
/// deterministic tie-breaking.
public enum TopSelection {
    /// Positions of the `count` largest `scores`, ties broken by the smaller `globalIndices` value,
    /// returned in increasing position order.
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
            return globalIndices[a] < globalIndices[b]
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
            let u = CounterHash.uniform(seed, UInt64(step), UInt64(globalIndices[i]), 0x5E1EC7)
            let w = max(Double(weights[i]), 1e-12)
            keys[i] = Float(log(u) / w)
        }
        return keys
    }
}

/// A counter-based random generator: a pure function of its key words, so that a random choice
/// about a sample is the same on whichever rank makes it.
public enum CounterHash {
    /// SplitMix64's finaliser, a bijective 64-bit mixer.
    @inlinable public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 64 random bits keyed by four words.
    @inlinable public static func bits(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> UInt64 {
        mix(mix(mix(mix(a) ^ b) ^ c) ^ d)
    }

    /// A uniform double in the open interval (0, 1) keyed by four words.
    @inlinable public static func uniform(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> Double {
        (Double(bits(a, b, c, d) >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
    }
}
