import Core
import XCTest

final class Checksum64Tests: XCTestCase {
    private func checksum(_ bytes: [UInt8]) -> UInt64 {
        var c = Checksum64()
        c.update(bytes)
        return c.value
    }

    func testIndependentOfHowTheBytesAreSplit() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let whole = checksum(bytes)
        for cut in [0, 1, 3, 7, 8, 9, 500, 999, 1000] {
            var split = Checksum64()
            split.update(Array(bytes[..<cut]))
            split.update(Array(bytes[cut...]))
            XCTAssertEqual(split.value, whole, "split at \(cut)")
        }
    }

    func testDetectsTruncationAndFlips() {
        let bytes = Array(repeating: UInt8(0), count: 64)
        let whole = checksum(bytes)
        XCTAssertNotEqual(checksum(Array(bytes.dropLast())), whole)
        XCTAssertNotEqual(checksum(bytes + [0]), whole)
        for i in stride(from: 0, to: 64, by: 9) {
            var flipped = bytes
            flipped[i] ^= 1
            XCTAssertNotEqual(checksum(flipped), whole, "flip at \(i)")
        }
        XCTAssertNotEqual(checksum([]), checksum([0]))
    }
}
