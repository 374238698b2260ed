import Foundation
import Selection
import SiftTestSupport
import XCTest

/// The distributed selection (real ranks under mpirun) against the serial rule over the same candidates.
final class DistributedSelectionTests: XCTestCase {
    func testSelectionEqualsSerialTopAtOneTwoThreeRanks() throws {
        let pool = 37, count = 11, seed: UInt64 = 3, levels = 4
        let indices = Array((0..<pool).reversed())
        // Same synthetic losses as `sift debug-select` (floor(hash) mod levels + 0.5): many ties.
        let losses = indices.map { SyntheticLoss.loss(seed: seed, index: $0, levels: levels) }
        let serial = TopSelection.top(scores: losses, globalIndices: indices, count: count).map { indices[$0] }
        XCTAssertGreaterThan(Set(losses).count, 1)
        for ranks in 1...3 {
            let out = try SiftProcess.run(["debug-select", "--pool", "\(pool)", "--count", "\(count)",
                                           "--seed", "\(seed)", "--levels", "\(levels)"], ranks: ranks, timeout: 120)
            XCTAssertEqual(out.status, 0, out.stderr)
            let line = out.stdout.split(separator: "\n").first { $0.hasPrefix("{") } ?? ""
            let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertEqual(json?["ranks"] as? Int, ranks)
            XCTAssertEqual(json?["selected"] as? [Int], serial, "selection at \(ranks) ranks")
            XCTAssertEqual((json?["selected_per_rank"] as? [Int])?.reduce(0, +), count)
        }
    }
}
