#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The Box–Muller transform: a standard normal draw from two uniforms.
public enum BoxMuller {
    /// `sqrt(-2 ln u1) * cos(2π u2)`; `u1` must be in (0, 1] so the logarithm is finite.
    @inlinable @inline(__always)
    public static func normal(_ u1: Double, _ u2: Double) -> Double {
        (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
