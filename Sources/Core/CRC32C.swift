/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord files (TensorBoard's
/// event files), computed a byte at a time from a 256-entry table. Check value: `CRC32C.checksum` of
/// "123456789" is 0xE3069283.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { (n: Int) -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    /// The CRC-32C of `count` bytes at `bytes`.
    public static func checksum(_ bytes: UnsafeRawPointer, count: Int) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        table.withUnsafeBufferPointer { t in
            for i in 0..<count {
                let b = bytes.load(fromByteOffset: i, as: UInt8.self)
                crc = t[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8)
            }
        }
        return ~crc
    }

    /// The CRC-32C of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: $0.count) }
    }

    /// TFRecord's masked form of a CRC: rotated right by 15 bits plus a constant, so that a CRC stored
    /// inside checksummed data does not make the outer CRC trivial.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
