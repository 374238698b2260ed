/// Rounding-error bounds for tests that compare two float32 computations of the same sums in different
/// orders (another OpenBLAS kernel family, blocking or GEMM shape). Such tests must hold on every CPU, so
/// their tolerance comes from the arithmetic, not from the differences one machine happened to show.
public enum RoundingBound {
    /// float32's unit roundoff, u = 2⁻²⁴.
    public static let unitRoundoff: Float = Float.ulpOfOne / 2

    /// γ_n = n·u / (1 − n·u): a float32 sum of n terms, in any order, is within γ_n · Σ|terms| of the exact
    /// sum (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1). Two orders of the same sum
    /// therefore differ by at most 2·γ_n · Σ|terms|.
    public static func gamma(terms n: Int) -> Float {
        let nu = Float(n) * unitRoundoff
        precondition(nu < 1, "γ_n needs n·u < 1")
        return nu / (1 - nu)
    }

    /// The largest difference two summation orders of n-term sums can show, relative to the scale of the
    /// terms' magnitudes: 2·γ_n.
    public static func twoOrders(terms n: Int) -> Float { 2 * gamma(terms: n) }
}
