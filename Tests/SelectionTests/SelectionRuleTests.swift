import Foundation
import Selection
import XCTest

/// The selection rules and the score history against closed forms and independent properties.
final class SelectionRuleTests: XCTestCase {
    func testPercentilesAreMidRanksInTheHistory() {
        let h = ScoreHistory(capacity: 10, values: [1, 2, 2, 3])
        // x = 2: one value below, two equal → (1 + 0.5·2) / 4 = 0.5; x = 0: 0; x = 3: (3 + 0.5) / 4; x = 9: 1.
        XCTAssertEqual(h.percentiles(of: [2, 0, 3, 9]), [0.5, 0, 0.875, 1])
        XCTAssertEqual(ScoreHistory(capacity: 3).percentiles(of: [5, 7]), [0.5, 0.5], "empty history: ½")
    }

    func testHistoryKeepsTheNewestCapacityValuesInOrder() {
        var h = ScoreHistory(capacity: 4)
        h.append([1, 2, 3])
        h.append([4, 5, 6])
        XCTAssertEqual(h.values, [3, 4, 5, 6])
        XCTAssertEqual(ScoreHistory(capacity: 2, values: [9, 8, 7]).values, [8, 7])
    }

    func testRelativeWeightsArePercentilePowers() {
        let h = ScoreHistory(capacity: 8, values: [1, 2, 3, 4])
        let w = TopSelection.relativeWeights(scores: [2.5, 4], history: h, beta: 2)
        XCTAssertEqual(Double(w[0]), 0.25, accuracy: 1e-7)  // percentile 2/4, squared
        XCTAssertEqual(Double(w[1]), 0.765625, accuracy: 1e-7)  // (3.5/4)²
    }

    /// Over many seeded draws, the relative rule keeps each candidate about as often as weighted sampling
    /// without replacement predicts: with b = 1 exactly w_i / Σw.
    func testRelativeSingleDrawFrequenciesFollowTheWeights() {
        let scores: [Float] = [1, 2, 3, 4]
        let h = ScoreHistory(capacity: 4, values: scores)
        let w = TopSelection.relativeWeights(scores: scores, history: h, beta: 1).map(Double.init)
        var counts = [0, 0, 0, 0]
        let trials = 20000
        for step in 0..<trials {
            let s = TopSelection.select(
                rule: .relative, scores: scores, globalIndices: [10, 11, 12, 13], count: 1,
                history: h, beta: 1, seed: 7, step: step)
            counts[s[0]] += 1
        }
        let total = w.reduce(0, +)
        for i in 0..<4 {
            let expected = w[i] / total
            let sd = (expected * (1 - expected) / Double(trials)).squareRoot()
            XCTAssertEqual(Double(counts[i]) / Double(trials), expected, accuracy: 5 * sd, "candidate \(i)")
        }
    }

    func testTopRuleIsGreedy() {
        XCTAssertEqual(
            TopSelection.select(
                rule: .top, scores: [3, 9, 1, 9], globalIndices: [0, 5, 2, 1], count: 2,
                history: nil, beta: 1, seed: 0, step: 0), [1, 3])
    }
}
