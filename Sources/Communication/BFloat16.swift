import CMPI

/// bfloat16 conversions of the lower-precision gradient exchange (`--gradient-exchange bf16`): the same
/// rounding as the exchange's MPI sum (`sift_float_to_bf16` in the CMPI shim), so there is one definition.
public enum BFloat16 {
    /// Rounds `count` floats to bfloat16 — the high 16 bits of the float rounded to nearest, ties to even;
    /// NaN stays NaN, ±∞ stays ±∞, a finite float above bfloat16's range becomes ±∞.
    public static func round(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<UInt16>, count: Int) {
        for i in 0..<count { target[i] = sift_float_to_bf16(source[i]) }
    }

    /// Widens `count` bfloat16 values to floats (exact).
    public static func widen(_ source: UnsafePointer<UInt16>, into target: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { target[i] = sift_bf16_to_float(source[i]) }
    }
}
