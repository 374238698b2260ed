/// Exact (erf-based) GELU as in HuggingFace's `"gelu"` activation: `0.5 · x · (1 + erf(x / √2))`.
public enum GELU {
    @usableFromInline static let inverseSqrt2: Float = 0.70710678118654752
    @usableFromInline static let inverseSqrt2Pi: Float = 0.39894228040143268

    /// `y[i] = gelu(x[i])` for `count` elements; `x` and `y` may alias.
    @inlinable
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count, minimumPerWorker: 1 << 15) { range in
            for i in range {
                let v = x[i]
                y[i] = 0.5 * v * (1 + erff(v * inverseSqrt2))
            }
        }
    }

    /// `dx[i] = dy[i] · gelu'(x[i])` with `gelu'(x) = Φ(x) + x · φ(x)`; `x` is the forward input.
    /// `dx` may alias `dy`.
    @inlinable
    public static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                count: Int) {
        Parallel.forRanges(count, minimumPerWorker: 1 << 15) { range in
            for i in range {
                let v = x[i]
                let cdf = 0.5 * (1 + erff(v * inverseSqrt2))
                let pdf = inverseSqrt2Pi * expf(-0.5 * v * v)
                dx[i] = dy[i] * (cdf + v * pdf)
            }
        }
    }
}
