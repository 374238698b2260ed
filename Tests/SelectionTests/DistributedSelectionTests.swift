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
            let out = try SiftProcess.run(
                [
                    "debug-select", "--pool", "\(pool)", "--count", "\(count)",
                    "--seed", "\(seed)", "--levels", "\(levels)"
                ], ranks: ranks, timeout: 120)
            XCTAssertEqual(out.status, 0, out.stderr)
            let line = out.stdout.split(separator: "\n").first { $0.hasPrefix("{") } ?? ""
            let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertEqual(json?["ranks"] as? Int, ranks)
            XCTAssertEqual(json?["selected"] as? [Int], serial, "selection at \(ranks) ranks")
            XCTAssertEqual((json?["selected_per_rank"] as? [Int])?.reduce(0, +), count)
        }
    }

    /// The threshold exchange against the allgather at 1, 2 and 3 real ranks on every adversarial pool
    /// (`sift debug-select --suite`): the same selected positions, per-rank counts, threshold (bit for
    /// bit) and non-finite counts, both equal to the serial rule computed here; a NaN loss is counted by
    /// both and ends the exchange without a hang. The loss means may differ in their last bits only
    /// (per-rank partial sums).
    func testThresholdExchangeEqualsAllgatherAtOneTwoThreeRanks() throws {
        let cases = SyntheticLoss.adversarialCases(seed: 1)
        for ranks in 1...3 {
            let out = try SiftProcess.run(["debug-select", "--suite", "--seed", "1"], ranks: ranks, timeout: 120)
            XCTAssertEqual(out.status, 0, out.stderr)
            XCTAssertFalse(out.timedOut)
            let lines = out.stdout.split(separator: "\n").filter { $0.hasPrefix("{") }
            XCTAssertEqual(lines.count, cases.count, "one line per case at \(ranks) ranks")
            for (c, line) in zip(cases, lines) {
                let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                XCTAssertEqual(json["case"] as? String, c.name)
                XCTAssertEqual(json["count"] as? Int, c.count)
                let a = try XCTUnwrap(json["allgather"] as? [String: Any]), t = try XCTUnwrap(json["threshold"] as? [String: Any])
                let what = "\(c.name) b=\(c.count) at \(ranks) ranks"
                for key in ["invalid", "infinite"] { XCTAssertEqual(t[key] as? Int, a[key] as? Int, "\(key): \(what)") }
                if c.name == "nan" {
                    XCTAssertEqual(t["invalid"] as? Int, 1, what)
                    continue
                }
                let serial = TopSelection.top(scores: c.scores ?? c.losses, globalIndices: c.indices, count: c.count)
                XCTAssertEqual(t["selected"] as? [Int], serial, what)
                XCTAssertEqual(a["selected"] as? [Int], serial, what)
                XCTAssertEqual(t["per_rank"] as? [Int], a["per_rank"] as? [Int], what)
                XCTAssertEqual((t["per_rank"] as? [Int])?.count, ranks, what)
                XCTAssertEqual(t["threshold_bits"] as? Int, a["threshold_bits"] as? Int, what)
                // ±3.4e38 cancel differently in another summation order: the means of "extremes" are not comparable.
                for key in ["mean_candidate", "mean_selected"] where c.name != "extremes" {
                    if let x = a[key] as? Double {
                        XCTAssertEqual(try XCTUnwrap(t[key] as? Double), x, accuracy: 1e-12 * max(1, abs(x)), "\(key): \(what)")
                    } else {
                        XCTAssertTrue(t[key] is NSNull, "\(key): \(what)")
                    }
                }
            }
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
                    XCTAssertTrue(
                        a.count == selected.count / size || a.count == (selected.count + size - 1) / size, "\(pool)/\(size) rank \(rank)")
                    // Own share: rank r scored positions [pool·r/size, pool·(r+1)/size).
                    let lo = pool * rank / size, hi = pool * (rank + 1) / size
                    XCTAssertEqual(b, selected.filter { $0 >= lo && $0 < hi }, "\(pool)/\(size) rank \(rank)")
                    balanced += a
                    own += b
                }
                XCTAssertEqual(balanced, selected)
                XCTAssertEqual(own, selected)
            }
        }
    }
}
