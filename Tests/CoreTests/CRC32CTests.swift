import Core
import XCTest

final class CRC32CTests: XCTestCase {
    /// The standard check value of CRC-32C (the CRC of the ASCII digits "123456789"), the CRC of no bytes,
    /// and the iSCSI test vector of 32 zero bytes (RFC 3720, B.4: 0x8A9136AA).
    func testStandardCheckValues() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([]), 0)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
    }

    /// TFRecord's mask, worked by hand for two values: ((crc >> 15) | (crc << 17)) + 0xa282ead8 mod 2^32.
    func testMask() {
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        // 0xE3069283 >> 15 = 0x1C60D, << 17 (mod 2^32) = 0x25060000; OR = 0x2507C60D; + 0xA282EAD8 = 0xC78AB0E5.
        XCTAssertEqual(CRC32C.masked(0xE306_9283), 0xC78A_B0E5)
    }
}
