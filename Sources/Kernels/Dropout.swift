/// Counter-based random numbers: a pure function of (key, counter), so any element's draw can be
/// regenerated anywhere (backward pass, another rank) without storing masks or generator state.
public enum CounterHash {
    /// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
    @inlinable @inline(__always)
    public static func mix(_ z0: UInt64) -> UInt64 {
        var z = z0 &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Combines several words into one key (order matters).
    @inlinable
    public static func key(_ parts: UInt64...) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3
        for p in parts { h = mix(h ^ p) }
        return h
    }

    /// Uniform in [0, 1) with 24 bits of resolution for element `index` under `key`.
    @inlinable @inline(__always)
    public static func uniform(key: UInt64, index: UInt64) -> Float {
        Float(mix(key ^ (index &* 0xD1B5_4A32_D192_ED03)) >> 40) * (1.0 / 16_777_216.0)
    }
}

/// Inverted dropout whose mask is drawn from `CounterHash` keyed by (key, element index).
///
/// An element is kept when `uniform(key, index) >= probability`, and kept elements are scaled by
/// `1 / (1 - probability)`. The mask is never stored: the backward pass regenerates it.
public enum Dropout {
    /// `y[i] = keep(i) ? x[i] / (1 - p) : 0` for `i in 0..<count`, element index `firstIndex + i`.
    /// `x` and `y` may alias.
    @inlinable
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int,
                               probability p: Float, key: UInt64, firstIndex: Int = 0) {
        let scale = 1 / (1 - p)
        Parallel.forRanges(count, minimumPerWorker: 1 << 15) { range in
            for i in range {
                let u = CounterHash.uniform(key: key, index: UInt64(firstIndex + i))
                y[i] = u >= p ? x[i] * scale : 0
            }
        }
    }

    /// Backward of `forward` with the same `key`/`firstIndex`: `dx[i] = keep(i) ? dy[i] / (1 - p) : 0`.
    /// `dx` may alias `dy`.
    @inlinable
    public static func backward(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int,
                                probability p: Float, key: UInt64, firstIndex: Int = 0) {
        forward(x: dy, y: dx, count: count, probability: p, key: key, firstIndex: firstIndex)
    }
}
