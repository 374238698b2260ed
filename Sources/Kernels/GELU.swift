/// Exact (erf-based) GELU as in HuggingFace's `"gelu"` activation: `0.5 · x · (1 + erf(x / √2))`.
public enum GELU {
    @usableFromInline static let inverseSqrt2: Float = 0.70710678118654752
    @usableFromInline static let inverseSqrt2Pi: Float = 0.39894228040143268

    /// `y[i] = gelu(x[i])` for `count` elements; `x` and `y` may alias.
    @inlinable
    public static func forward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.gelu, t0, bytes: 8 * Double(count)) }
        Parallel.forRanges(count, minimumPerWorker: 1 << 15) { range in
            // Eight lanes at a time (the rational erf vectorises; the C library's erff is a call per element).
            var i = range.lowerBound
            let xr = UnsafeRawPointer(x), yr = UnsafeMutableRawPointer(y)
            while i + 8 <= range.upperBound {
                let v = xr.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let g = 0.5 * v * (1 + erfRational(v * inverseSqrt2))
                yr.storeBytes(of: g, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < range.upperBound {
                let v = x[i]
                y[i] = 0.5 * v * (1 + erfRational(v * inverseSqrt2))
                i += 1
            }
        }
    }

    /// `dx[i] = dy[i] · gelu'(x[i])` with `gelu'(x) = Φ(x) + x · φ(x)`; `x` is the forward input.
    /// `dx` may alias `dy`.
    @inlinable
    public static func backward(
        x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        let t0 = KernelProfile.begin()
        defer { KernelProfile.end(.gelu, t0, bytes: 12 * Double(count)) }
        Parallel.forRanges(count, minimumPerWorker: 1 << 15) { range in
            var i = range.lowerBound
            let xr = UnsafeRawPointer(x), dyr = UnsafeRawPointer(dy), dxr = UnsafeMutableRawPointer(dx)
            while i + 8 <= range.upperBound {
                let v = xr.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                let cdf = 0.5 * (1 + erfRational(v * inverseSqrt2))
                let e = expNonPositive(-0.5 * v * v)
                let d = dyr.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) * (cdf + v * (inverseSqrt2Pi * e))
                dxr.storeBytes(of: d, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            while i < range.upperBound {
                let v = x[i]
                let cdf = 0.5 * (1 + erfRational(v * inverseSqrt2))
                // The same functions as the 8-wide path, so a value does not depend on where a range starts.
                let pdf = inverseSqrt2Pi * expNonPositive(SIMD8<Float>(repeating: -0.5 * v * v))[0]
                dx[i] = dy[i] * (cdf + v * pdf)
                i += 1
            }
        }
    }
}
