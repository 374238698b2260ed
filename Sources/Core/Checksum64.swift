/// A fast streaming 64-bit checksum for detecting corrupted or truncated files (not cryptographic).
///
/// Little-endian 8-byte words are mixed in with a multiply-rotate step; bytes are buffered across
/// `update` calls so the value depends only on the byte sequence, not on how it was split. The
/// length is mixed in last, so truncation changes the value.
public struct Checksum64: Sendable {
    private var state: UInt64 = 0x243F_6A88_85A3_08D3
    private var length: UInt64 = 0
    private var pending: UInt64 = 0
    private var pendingBytes = 0

    public init() {}

    @inline(__always) private static func step(_ h: UInt64, _ w: UInt64) -> UInt64 {
        let x = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
        return (x << 31) | (x >> 33)
    }

    /// Mixes `count` bytes at `bytes` into the checksum.
    public mutating func update(_ bytes: UnsafeRawPointer, count: Int) {
        var i = 0
        while pendingBytes > 0 && pendingBytes < 8 && i < count {
            pending |= UInt64(bytes.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(pendingBytes))
            pendingBytes += 1
            i += 1
        }
        if pendingBytes == 8 {
            state = Checksum64.step(state, pending)
            pending = 0
            pendingBytes = 0
        }
        var h = state
        while i + 8 <= count {
            h = Checksum64.step(h, UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            i += 8
        }
        state = h
        while i < count {
            pending |= UInt64(bytes.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(pendingBytes))
            pendingBytes += 1
            i += 1
        }
        length &+= UInt64(count)
    }

    /// Mixes a byte array into the checksum.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0.baseAddress!, count: $0.count) }
    }

    /// The checksum of everything mixed in so far.
    public var value: UInt64 {
        var z = (pendingBytes > 0 ? Checksum64.step(state, pending) : state) ^ length
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
