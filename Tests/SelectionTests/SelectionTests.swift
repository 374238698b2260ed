import Core
import Selection
import XCTest

/// The serial selection rule, checked against properties a correct top-b must have.
final class SelectionTests: XCTestCase {
    func testTopSelectionProperties() {
        for trial in 0..<200 {
            let n = 1 + trial % 40
            let count = trial % (n + 1)
            // Quantised scores force many ties; indices are a shuffled set of distinct ids.
            let scores = (0..<n).map { Float(Int(CounterHash.bits(7, UInt64(trial), UInt64($0), 1) % 5)) }
            let indices = (0..<n).map { Int(CounterHash.bits(9, UInt64(trial), UInt64($0), 2) % 1000) * n + $0 }
            let selected = TopSelection.top(scores: scores, globalIndices: indices, count: count)
            XCTAssertEqual(selected.count, count)
            XCTAssertEqual(selected, selected.sorted(), "positions come back in increasing order")
            XCTAssertEqual(Set(selected).count, count)
            let chosen = Set(selected)
            for s in chosen {
                for u in 0..<n where !chosen.contains(u) {
                    XCTAssertTrue(
                        scores[s] > scores[u] || (scores[s] == scores[u] && indices[s] < indices[u]),
                        "selected \(s) must beat unselected \(u)")
                }
            }
        }
    }

    func testProportionalSamplingFollowsWeights() {
        // Weights 1:2:3:4 over many steps: drawing one item, frequencies must approach 0.1/0.2/0.3/0.4.
        let weights: [Float] = [1, 2, 3, 4]
        var hits = [0, 0, 0, 0]
        let trials = 20000
        for step in 0..<trials {
            let keys = TopSelection.proportionalKeys(weights: weights, globalIndices: [0, 1, 2, 3], seed: 5, step: step)
            hits[TopSelection.top(scores: keys, globalIndices: [0, 1, 2, 3], count: 1)[0]] += 1
        }
        for i in 0..<4 {
            XCTAssertEqual(Double(hits[i]) / Double(trials), Double(i + 1) / 10, accuracy: 0.015)
        }
    }

    func testSharesCoverPoolExactlyOnce() {
        for size in 1...5 {
            for pool in 0...23 {
                var covered: [Int] = []
                for r in 0..<size { covered += Array(GlobalSelection.share(poolSize: pool, rank: r, size: size)) }
                XCTAssertEqual(covered, Array(0..<pool))
                let counts = (0..<size).map { GlobalSelection.share(poolSize: pool, rank: $0, size: size).count }
                XCTAssertEqual(counts.max(), GlobalSelection.largestShare(poolSize: pool, size: size), "pool \(pool), \(size) ranks")
                XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1)
            }
        }
    }
}
