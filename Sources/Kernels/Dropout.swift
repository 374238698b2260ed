import Core

/// Inverted dropout whose mask is drawn from `CounterHash` keyed by (key, element index).
///
/// An element is kept when `uniform(key, index) >= probability`, and kept elements are scaled by
/// `1 / (1 - probability)`. The mask is never stored: the backward pass regenerates it.
public enum Dropout {
    /// `y[i] = keep(i) ? x[i] / (1 - p) : 0` for `i in 0..<count`, element index `firstIndex + i`.
    /// `x` and `y` may alias.
    @inlinable
    public static func forward(
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int,
        probability p: Float, key: UInt64, firstIndex: Int = 0
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.dropout, t0, bytes: 8 * Double(count)) }
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
    public static func backward(
        dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int,
        probability p: Float, key: UInt64, firstIndex: Int = 0
    ) {
        forward(x: dy, y: dx, count: count, probability: p, key: key, firstIndex: firstIndex)
    }

    /// Backward from the forward's output instead of its key: `dx[i] = y[i] != 0 ? dy[i] / (1 - p) : 0`.
    /// Equal to `backward(…key…)` wherever the forward input `x[i]` was non-zero (a kept non-zero input
    /// stays non-zero); where `x[i]` was 0 it gives 0 — right for attention probabilities, whose softmax
    /// backward multiplies that element's gradient by the probability, 0. `dx` may alias `dy`.
    @inlinable
    public static func backward(
        dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int,
        probability p: Float, keptWhereNonZero y: UnsafePointer<Float>
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.dropout, t0, bytes: 12 * Double(count)) }
        let scale = 1 / (1 - p)
        for i in 0..<count { dx[i] = y[i] != 0 ? dy[i] * scale : 0 }
    }
}
