/// Bit-level conversions of 16-bit floating-point formats to `Float32`.
///
/// Done on the bit patterns (not via `Float16`) so they behave the same on every platform and can be
/// checked against hand-derived patterns. Both conversions are exact: every F16 and BF16 value is
/// representable as a Float32.
public enum HalfPrecision {
    /// IEEE 754 binary16 (1 sign, 5 exponent, 10 mantissa bits) to Float32, including subnormals,
    /// infinities and NaN (payload kept in the high mantissa bits).
    @inlinable
    public static func float(fromF16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        var mantissa = UInt32(bits & 0x03FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal: value = mantissa × 2^-24; normalise the mantissa into Float32's implicit-1 form.
            var e: Int32 = -14
            while mantissa & 0x0400 == 0 {
                mantissa <<= 1
                e -= 1
            }
            mantissa &= 0x03FF
            return Float(bitPattern: sign | UInt32(e + 127) << 23 | (mantissa << 13))
        }
        return Float(bitPattern: sign | (exponent + 112) << 23 | (mantissa << 13))
    }

    /// bfloat16 (the top 16 bits of a Float32) to Float32.
    @inlinable
    public static func float(fromBF16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}
