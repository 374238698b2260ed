import Core

/// Inverted dropout whose mask is drawn from `CounterHash` keyed by (key, element index).
///
/// An element is kept when `elementBits(key, index) >= probability · 2³²`, and kept elements are scaled
/// by `1 / (1 - probability)`. The mask is never stored: the backward pass regenerates it. Eight
/// elements at a time (32-bit hashing vectorises; SplitMix64's 64-bit multiplies do not on AVX2).
/// Element indices are taken modulo 2³² (callers key each sample slab separately).
public enum Dropout {
    /// `y[i] = keep(i) ? x[i] / (1 - p) : 0` for `i in 0..<count`, element index `firstIndex + i`.
    /// `x` and `y` may alias.
    @inlinable
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int,
                               probability p: Float, key: UInt64, firstIndex: Int = 0) {
        let t0 = KernelProfile.begin(); defer { KernelProfile.end(.dropout, t0, bytes: 8 * Double(count)) }
        let scale = 1 / (1 - p)
        let threshold = UInt32(min(Double(p) * 4_294_967_296, 4_294_967_295))
        Parallel.forRanges(count, minimumPerWorker: 1 << 15) { range in
            // Broadcast constants hoisted: SIMD8(repeating:) inside the loop costs 5× the whole kernel.
            let low = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: key))
            let high = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: key >> 32))
            let eight = SIMD8<UInt32>(repeating: 8), bound = SIMD8<UInt32>(repeating: threshold)
            let scales = SIMD8<Float>(repeating: scale), zeros = SIMD8<Float>()
            var index = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: firstIndex + range.lowerBound))
                &+ SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
            var i = range.lowerBound
            while i + 8 <= range.upperBound {
                let bits = CounterHash.mix32(CounterHash.mix32(index ^ low) ^ high)
                let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) * scales
                UnsafeMutableRawPointer(y + i).storeBytes(of: zeros.replacing(with: v, where: bits .>= bound), as: SIMD8<Float>.self)
                index &+= eight
                i += 8
            }
            while i < range.upperBound {
                let bits = CounterHash.elementBits(key: key, index: UInt32(truncatingIfNeeded: firstIndex + i))
                y[i] = bits >= threshold ? x[i] * scale : 0
                i += 1
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
