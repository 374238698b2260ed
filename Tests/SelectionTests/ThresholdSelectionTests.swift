import Communication
import Core
import Foundation
import Selection
import XCTest

/// The threshold exchange in one process (`SingleProcess`: every collective is the identity), against
/// the serial rule `TopSelection.top`; the multi-rank comparison is in `DistributedSelectionTests`.
final class ThresholdSelectionTests: XCTestCase {
    let selection = GlobalSelection(communicator: SingleProcess())

    func select(_ c: SelectionCase, _ exchange: SelectionExchange) -> GlobalSelectionResult {
        var history: ScoreHistory? = nil
        return selection.select(
            localLosses: c.losses, localScores: c.scores, pool: c.indices, count: c.count, rule: .top,
            history: &history, beta: 1, seed: 1, step: 0, exchange: exchange)
    }

    /// The key orders floats as `<` and `==` do (−0 equal to +0), over values where orderings go wrong:
    /// signed zeros, subnormals, neighbours one ulp apart, the extreme finite values and infinities.
    func testKeyOrdersFloatsAsTheyCompare() {
        var values: [Float] = [
            0, -0.0, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, -.leastNormalMagnitude,
            1, -1, Float(bitPattern: 0x0001_1170), -Float(bitPattern: 0x0001_1170), 3, Float(3).nextUp, Float(3).nextDown, -Float(3).nextUp
        ]
        for i in 0..<200 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: CounterHash.bits(7, 1, UInt64(i), 0)))) }
        values = values.filter { !$0.isNaN }
        for a in values {
            XCTAssertEqual(ThresholdSelection.score(ofKey: ThresholdSelection.key(a)), a == 0 ? 0 : a)
            for b in values {
                XCTAssertEqual(ThresholdSelection.key(a) < ThresholdSelection.key(b), a < b, "\(a) against \(b)")
                XCTAssertEqual(ThresholdSelection.key(a) == ThresholdSelection.key(b), a == b, "\(a) against \(b)")
            }
        }
        XCTAssertEqual(ThresholdSelection.key(.nan), 0)
        XCTAssertLessThan(ThresholdSelection.key(.nan), ThresholdSelection.key(-.infinity))
    }

    /// Every adversarial pool: the threshold exchange selects what the serial rule selects, and reports
    /// the same threshold, counts and means (in one process the partial sums are the serial sums).
    func testAdversarialPoolsSelectAsTheSerialRule() {
        let cases = SyntheticLoss.adversarialCases()
        XCTAssertGreaterThan(cases.count, 40)
        for c in cases {
            let a = select(c, .allgather), t = select(c, .threshold)
            XCTAssertEqual(t.invalidLosses, a.invalidLosses, c.name)
            XCTAssertEqual(t.infiniteLosses, a.infiniteLosses, c.name)
            XCTAssertTrue(t.poolLosses.isEmpty)
            if c.name == "nan" {
                XCTAssertEqual(t.invalidLosses, 1)
                continue
            }
            let serial = TopSelection.top(scores: c.scores ?? c.losses, globalIndices: c.indices, count: c.count)
            XCTAssertEqual(t.selectedPositions, serial, "\(c.name) b=\(c.count)")
            XCTAssertEqual(a.selectedPositions, serial, "\(c.name) b=\(c.count)")
            XCTAssertEqual(t.selectedPerRank, [c.count])
            XCTAssertEqual(t.threshold?.bitPattern, a.threshold?.bitPattern, "\(c.name) b=\(c.count)")
            XCTAssertEqual(t.meanCandidateLoss, a.meanCandidateLoss, "\(c.name)")
            XCTAssertEqual(t.meanSelectedLoss, a.meanSelectedLoss, "\(c.name) b=\(c.count)")
        }
    }

    /// Random pools of every size up to 70 with few distinct values (ties at the b-th largest are the
    /// rule, not the exception), some samples drawn twice, every b.
    func testRandomTiedPoolsSelectAsTheSerialRule() {
        for trial in 0..<60 {
            let B = 1 + trial + (trial % 7) * 3
            func h(_ i: Int, _ salt: UInt64) -> UInt64 { CounterHash.bits(UInt64(trial), salt, UInt64(i), 9) }
            let levels = 1 + Int(h(0, 1) % 6)
            let indices = (0..<B).map { Int(h($0, 2) % UInt64(B + 3)) }  // repeats happen
            let losses = (0..<B).map { Float(Int(h($0, 3) % UInt64(levels))) * (h($0, 4) % 2 == 0 ? 1 : -0.5) }
            for count in 0...B {
                let c = SelectionCase(name: "random", indices: indices, losses: losses, scores: nil, count: count)
                let t = select(c, .threshold)
                XCTAssertEqual(
                    t.selectedPositions, TopSelection.top(scores: losses, globalIndices: indices, count: count),
                    "trial \(trial) B=\(B) b=\(count)")
            }
        }
    }

    /// What each exchange sends, as the scaling model prices it: the allgather 4 (or 8) bytes per
    /// candidate; the threshold exchange 8 small allreduces and each rank's share as whole bytes of bits.
    func testCollectivesCountWhatIsSent() {
        XCTAssertEqual(SelectionExchange.collectives(.allgather, pool: 1000, ranks: 4).allgatherBytes, 4000)
        XCTAssertEqual(SelectionExchange.collectives(.allgather, pool: 1000, ranks: 4, bytesPerCandidate: 8).allgatherBytes, 8000)
        XCTAssertEqual(SelectionExchange.collectives(.allgather, pool: 1000, ranks: 4).smallAllreduces, 0)
        let t = SelectionExchange.collectives(.threshold, pool: 1000, ranks: 4)
        XCTAssertEqual(t.smallAllreduces, 8)
        XCTAssertEqual(t.allgatherBytes, 4 * 32)  // shares of 250 candidates: 32 bytes each
        XCTAssertEqual(SelectionExchange.collectives(.threshold, pool: 37, ranks: 3).allgatherBytes, 2 + 2 + 2)  // 12, 12, 13
        XCTAssertEqual(ThresholdSelection.keyRounds * 4, 32)
    }
}
