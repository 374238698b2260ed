#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `exp` for Float through the C library (kept in one place so kernels do not import Foundation).
@inlinable @inline(__always) public func expf(_ x: Float) -> Float {
    #if canImport(Glibc)
        return Glibc.expf(x)
    #else
        return Darwin.expf(x)
    #endif
}

/// `erf` for Float through the C library.
@inlinable @inline(__always) public func erff(_ x: Float) -> Float {
    #if canImport(Glibc)
        return Glibc.erff(x)
    #else
        return Darwin.erff(x)
    #endif
}

/// Natural logarithm for Float through the C library.
@inlinable @inline(__always) public func logf(_ x: Float) -> Float {
    #if canImport(Glibc)
        return Glibc.logf(x)
    #else
        return Darwin.logf(x)
    #endif
}

/// `erf` as a rational function, branch-free so loops over it vectorise: the clamp to [-4, 4] (beyond
/// which erf is ±1 in Float) and `x·P(x²)/Q(x²)` with the minimax coefficients Eigen and XLA use for
/// Float. Absolute error against the C library's `erff` ≤ 5e-7 (worst 4.2e-7, near |x| = 3.97, where erf is
/// within 2e-8 of ±1; `ElementwiseTests.testRationalErfMatchesTheCLibrary`).
///
/// Concrete `SIMD8`, and the clamp as two `replacing(with:where:)` blends: the generic `V: SIMD` with
/// `clamped` compiled to code 1.6× slower, and `pointwiseMin`/`pointwiseMax` stayed out-of-line calls
/// that loop over the lanes (measured in `perf`: docs/DECISIONS.md).
@inlinable @inline(__always) public func erfRational(_ x: SIMD8<Float>) -> SIMD8<Float> {
    typealias V = SIMD8<Float>
    let v = x.replacing(with: -4, where: x .< -4).replacing(with: 4, where: x .> 4)
    let x2 = v * v
    var p = V(repeating: -2.72614225801306e-10)
    p = p * x2 + V(repeating: 2.77068142495902e-08)
    p = p * x2 + V(repeating: -2.10102402082508e-06)
    p = p * x2 + V(repeating: -5.69250639462346e-05)
    p = p * x2 + V(repeating: -7.34990630326855e-04)
    p = p * x2 + V(repeating: -2.95459980854025e-03)
    p = p * x2 + V(repeating: -1.60960333262415e-02)
    var q = V(repeating: -1.45660718464996e-05)
    q = q * x2 + V(repeating: -2.13374055278905e-04)
    q = q * x2 + V(repeating: -1.68282697438203e-03)
    q = q * x2 + V(repeating: -7.37332916720468e-03)
    q = q * x2 + V(repeating: -1.42647390514189e-02)
    return v * p / q
}

/// Scalar `erfRational` (loop tails).
@inlinable @inline(__always) public func erfRational(_ x: Float) -> Float {
    erfRational(SIMD8<Float>(repeating: x))[0]
}

/// `exp` for arguments ≤ 0, branch-free so loops over it vectorise (GELU's density term e^(−x²/2)):
/// `exp(x) = 2ⁿ · e^r` with n = round(x / ln 2) and |r| ≤ ln 2 / 2 (ln 2 split in two for an exact
/// reduction), e^r from Cephes' degree-5 polynomial, 2ⁿ built in the exponent bits. The rounding adds
/// and subtracts 1.5·2²³ (whose low mantissa bits then hold n), which vectorises where `rounded()`
/// does not. Below −87 the result is 0 (the true value is subnormal or smaller; a masked attention
/// score must give exactly 0); NaN stays NaN. Relative error against the C library's `expf` ≤ 3e-7 on
/// [−87, 0] (`ElementwiseTests.testNegativeExpMatchesTheCLibrary`).
@inlinable @inline(__always) public func expNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let v = x.replacing(with: -87, where: x .< -87).replacing(with: 0, where: x .> 0)
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let shifted = v * 1.44269504088896341 + magic
    let n = shifted - magic
    let r = v - n * 0.693359375 - n * -2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = p * r * r + r + 1
    let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    let e = er * unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
    // Below −87 (−∞ included) the result is 0, as the C library's underflow gives for a masked score;
    // a NaN stays NaN (the clamp would turn it into a number, hiding it from the non-finite checks).
    return e.replacing(with: 0, where: x .< -87).replacing(with: x, where: x .!= x)
}

/// `Σ exp(p[i] − shift)` over `count` floats, with `p[i] = exp(p[i] − shift)` stored when `store`;
/// `shift` ≥ every `p[i]` (a row maximum), so every argument is ≤ 0. Eight lanes at a time through
/// `expNonPositive` (the tail too, so a value does not depend on the row's length), summed per lane
/// and then across lanes: the softmax and cross-entropy normaliser.
@inlinable @inline(__always)
public func expShiftedSum(_ p: UnsafeMutablePointer<Float>, count: Int, shift: Float, store: Bool) -> Float {
    let raw = UnsafeMutableRawPointer(p)
    var lanes = SIMD8<Float>()
    // A run-time scalar broadcast inside the loop is not hoisted by the compiler: do it once.
    let shifts = SIMD8<Float>(repeating: shift)
    var i = 0
    while i + 8 <= count {
        let e = expNonPositive(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - shifts)
        if store { raw.storeBytes(of: e, toByteOffset: i * 4, as: SIMD8<Float>.self) }
        lanes += e
        i += 8
    }
    var tail: Float = 0
    while i < count {
        let e = expNonPositive(SIMD8<Float>(repeating: p[i] - shift))[0]
        if store { p[i] = e }
        tail += e
        i += 1
    }
    return lanes.sum() + tail
}
