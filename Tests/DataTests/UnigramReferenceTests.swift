import Data
import Foundation
import XCTest

/// The unigram reference of the reducible score and `--sift-start-learned` against its closed form.
final class UnigramReferenceTests: XCTestCase {
    func testUnigramReferenceIsSmoothedNegativeLogFrequency() {
        let r = UnigramReference(counts: [3, 0, 1])  // total with add-one: 4 + 3 = 7
        XCTAssertEqual(Double(r.negativeLogProbability[0]), -log(4.0 / 7), accuracy: 1e-6)
        XCTAssertEqual(Double(r.negativeLogProbability[1]), -log(1.0 / 7), accuracy: 1e-6)
        let labels: [Int32] = [-100, 0, 2, -100, 0]
        let mean = labels.withUnsafeBufferPointer { r.meanLoss(labels: $0.baseAddress!, count: 5) }
        XCTAssertEqual(Double(mean), (-2 * log(4.0 / 7) - log(2.0 / 7)) / 3, accuracy: 1e-6)
        let none: [Int32] = [-100, -100]
        XCTAssertEqual(none.withUnsafeBufferPointer { r.meanLoss(labels: $0.baseAddress!, count: 2) }, 0)
    }
}
