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

    /// Who backpropagates what: with rebalancing the selected list is cut into pieces whose sizes differ
    /// by at most one; without it each rank keeps the selected candidates of its own contiguous share of
    /// the pool. Either way every selected position is assigned exactly once. Checked against the closed
    /// form on selections skewed toward one end of the pool.
    func testAssignmentCoversTheSelectionOnceWithAndWithoutRebalancing() {
        for (pool, size) in [(24, 3), (37, 4), (10, 1), (9, 5)] {
            for trial in 0..<20 {
                // A skewed selection: positions from the front of the pool more often (trial decides how much).
                let selected = (0..<pool).filter { (($0 * 7 + trial * 13) % pool) < pool / 2 || $0 < trial % (pool / 2 + 1) }
                let result = GlobalSelectionResult(selectedPositions: selected, threshold: nil, selectedPerRank: [], poolLosses: [])
                var balanced: [Int] = [], own: [Int] = []
                for rank in 0..<size {
                    let a = GlobalSelection.assignment(result, poolSize: pool, rank: rank, size: size, rebalance: true)
                    let b = GlobalSelection.assignment(result, poolSize: pool, rank: rank, size: size, rebalance: false)
                    // Rebalanced: floor or ceil of |selected| / size, contiguous in the selected list.
                    XCTAssertTrue(a.count == selected.count / size || a.count == (selected.count + size - 1) / size, "\(pool)/\(size) rank \(rank)")
                    // Own share: rank r scored positions [pool·r/size, pool·(r+1)/size).
                    let lo = pool * rank / size, hi = pool * (rank + 1) / size
                    XCTAssertEqual(b, selected.filter { $0 >= lo && $0 < hi }, "\(pool)/\(size) rank \(rank)")
                    balanced += a; own += b
                }
                XCTAssertEqual(balanced, selected)
                XCTAssertEqual(own, selected)
            }
        }
    }
}
