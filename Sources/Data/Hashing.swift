/// FNV-1a 64-bit hash, used for vocabulary fingerprints and shard checksums
/// (fast, dependency-free, and stable across platforms).
public struct FNV1a64 {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        value = h
    }

    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        var h = value
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        value = h
    }

    /// 16 lowercase hex digits.
    public var hex: String { hex64(value) }
}

/// Zero-padded 16-digit lowercase hex of a 64-bit value.
public func hex64(_ value: UInt64) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

/// Counter-based random numbers: a pure function of its key words, so any rank or reader
/// derives the same value for the same (seed, epoch, sample, position) without shared state.
public enum CounterHash {
    /// SplitMix64 finaliser: a bijective avalanche mix of one 64-bit word.
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Hash of an ordered tuple of words; each word is folded in through a full mix so that
    /// (a, b) and (b, a) differ.
    @inline(__always)
    public static func hash(_ a: UInt64, _ b: UInt64, _ c: UInt64 = 0, _ d: UInt64 = 0, _ e: UInt64 = 0) -> UInt64 {
        var h = mix(a)
        h = mix(h ^ b)
        h = mix(h ^ c)
        h = mix(h ^ d)
        h = mix(h ^ e)
        return h
    }

    /// Maps a hash to a uniform Double in [0, 1) using its top 53 bits.
    @inline(__always)
    public static func unit(_ h: UInt64) -> Double {
        Double(h >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}
