import Core
import XCTest

final class FNV1a64Tests: XCTestCase {
    /// Test vectors published with the FNV reference code (FNV-1a, 64 bits).
    func testPublishedVectors() {
        XCTAssertEqual(FNV1a64("").value, 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(FNV1a64("a").value, 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(FNV1a64("foobar").value, 0x8594_4171_f739_67e8)
    }

    func testIncrementalEqualsWhole() {
        let bytes = Array("the quick brown fox".utf8)
        var split = FNV1a64()
        split.update(bytes.prefix(7))
        bytes.suffix(from: 7).withUnsafeBytes { split.update($0) }
        XCTAssertEqual(split.value, FNV1a64("the quick brown fox").value)
    }

    func testHexIsSixteenLowercaseDigits() {
        XCTAssertEqual(FNV1a64("a").hex, "af63dc4c8601ec8c")
        XCTAssertEqual(hex64(0xAB), "00000000000000ab")
    }
}
