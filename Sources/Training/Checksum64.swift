/// A fast streaming 64-bit checksum for detecting corrupted or truncated files (not cryptographic).
///
/// Words of 8 bytes are mixed in with a multiply-rotate step; the tail is folded byte by byte and
/// the length is mixed in last, so truncation changes the value.
public struct Checksum64: Sendable {
    private var state: UInt64 = 0x243F_6A88_85A3_08D3
    private var length: UInt64 = 0

    public init() {}

    /// Mixes `count` bytes at `bytes` into the checksum.
    public mutating func update(_ bytes: UnsafeRawPointer, count: Int) {
        var h = state
        let words = count / 8
        for i in 0..<words {
            let w = bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
            h = ((h ^ w) &* 0x9E37_79B9_7F4A_7C15)
            h = (h << 31) | (h >> 33)
        }
        for i in (words * 8)..<count {
            h = (h ^ UInt64(bytes.load(fromByteOffset: i, as: UInt8.self))) &* 0x0000_0100_0000_01B3
        }
        state = h
        length &+= UInt64(count)
    }

    /// Mixes a byte array into the checksum.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0.baseAddress!, count: $0.count) }
    }

    /// The checksum of everything mixed in so far.
    public var value: UInt64 {
        var z = state ^ length
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
