/// Counter-based random numbers: pure functions of their key words, so any rank, reader or backward
/// pass derives the same value for the same (seed, step, sample, position) without shared state or
/// stored masks. Rank-count invariance and bit-identical resume depend on every module using these.
///
/// The members are distinct functions kept for the values they already produce (data order, masks,
/// dropout, initialisation and selection sampling were built on them); all share the SplitMix64 `mix`.
public enum CounterHash {
    /// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
    @inlinable @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 64 random bits keyed by four words: `mix(mix(mix(mix(a) ^ b) ^ c) ^ d)`.
    /// Used for data order, dropout seeds and synthetic losses.
    @inlinable @inline(__always)
    public static func bits(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> UInt64 {
        mix(mix(mix(mix(a) ^ b) ^ c) ^ d)
    }

    /// Hash of an ordered tuple of up to five words, each folded in through a full mix (so (a, b)
    /// and (b, a) differ). Always mixes five times: `hash(a, b, c, d, 0) != bits(a, b, c, d)`.
    /// Used for MLM masking and the validation split.
    @inlinable @inline(__always)
    public static func hash(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0, _ d: UInt64 = 0, _ e: UInt64 = 0) -> UInt64 {
        var h = mix(a)
        h = mix(h ^ b)
        h = mix(h ^ c)
        h = mix(h ^ d)
        h = mix(h ^ e)
        return h
    }

    /// Combines any number of words into one key, starting from a fixed constant (order matters).
    /// Used for dropout keys and weight initialisation.
    @inlinable
    public static func key(_ parts: UInt64...) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        for p in parts { h = mix(h ^ p) }
        return h
    }

    /// Uniform Float in [0, 1) with 24 bits of resolution for element `index` under `key`
    /// (dropout masks).
    @inlinable @inline(__always)
    public static func uniform(key: UInt64, index: UInt64) -> Float {
        Float(mix(key ^ (index &* 0xD1B5_4A32_D192_ED03)) >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform Double in the open interval (0, 1) keyed by four words (`bits` plus half a step),
    /// so its logarithm is finite (proportional selection).
    @inlinable @inline(__always)
    public static func uniform(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64) -> Double {
        (Double(bits(a, b, c, d) >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Maps a hash to a uniform Double in [0, 1) using its top 53 bits.
    @inlinable @inline(__always)
    public static func unit(_ h: UInt64) -> Double {
        Double(h >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}
