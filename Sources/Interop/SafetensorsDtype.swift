/// The element types of the safetensors format, with their sizes in bytes.
public enum SafetensorsDtype: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case u8 = "U8", i8 = "I8"
    case f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case f64 = "F64", i64 = "I64", u64 = "U64"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }

    /// Whether `SafetensorsFile` can read the tensor as Float32 (exactly: F32 as is, F16/BF16 widened).
    public var convertsToFloat32: Bool { self == .f32 || self == .f16 || self == .bf16 }
}
