/// FNV-1a 64-bit hash, used for vocabulary fingerprints, shard checksums and initialisation keys
/// (fast, dependency-free, and stable across platforms).
public struct FNV1a64: Sendable {
    /// The hash of everything fed in so far (the offset basis before any byte).
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    /// The hash of a string's UTF-8 bytes.
    public init(_ text: String) { update(text.utf8) }

    /// Feeds the bytes of `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        value = h
    }

    /// Feeds a sequence of bytes.
    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        var h = value
        for byte in bytes {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        value = h
    }

    /// 16 lowercase hex digits.
    public var hex: String { hex64(value) }
}

/// Zero-padded 16-digit lowercase hex of a 64-bit value.
public func hex64(_ value: UInt64) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}
