import Advice
import XCTest

/// The probe's arithmetic against values worked out by hand, and the verdict's rules.
final class ProbeGainTests: XCTestCase {
    func testMatchingStepsInterpolatesVanillasTwoBudgets() throws {
        // Vanilla: 4.1496 after 150 steps, 4.1162 after 200; the selecting run reached 4.1418 in 150.
        // n* = 150 + (4.1418 − 4.1496) · 50 / (4.1162 − 4.1496) = 150 + 0.0078 · 50 / 0.0334 = 161.676…
        let n = try XCTUnwrap(ProbeGain.matchingSteps(loss: 4.1418, short: 150, shortLoss: 4.1496, full: 200, fullLoss: 4.1162))
        XCTAssertEqual(n, 150 + 0.0078 * 50 / 0.0334, accuracy: 1e-9)
        let gain = try XCTUnwrap(ProbeGain.gain(selectingLoss: 4.1418, short: 150, shortLoss: 4.1496, full: 200, fullLoss: 4.1162))
        XCTAssertEqual(gain, 1 - 150 / n, accuracy: 1e-12)
        XCTAssertEqual(gain, 0.0722, accuracy: 5e-5)
        XCTAssertFalse(ProbeGain.isExtrapolated(matchingSteps: n, short: 150, full: 200))
    }

    func testEndpointsAndExtrapolation() throws {
        // Equal to vanilla's short loss: n* = short, gain 0; equal to its full loss: n* = full, gain 1 − 3/4.
        XCTAssertEqual(ProbeGain.gain(selectingLoss: 5, short: 90, shortLoss: 5, full: 120, fullLoss: 4.8), 0)
        XCTAssertEqual(try XCTUnwrap(ProbeGain.gain(selectingLoss: 4.8, short: 90, shortLoss: 5, full: 120, fullLoss: 4.8)), 0.25,
                       accuracy: 1e-12)
        // Better than vanilla's full run: n* = 90 + 0.3 · 30 / 0.2 = 135, past the measured budgets.
        let n = try XCTUnwrap(ProbeGain.matchingSteps(loss: 4.7, short: 90, shortLoss: 5, full: 120, fullLoss: 4.8))
        XCTAssertEqual(n, 135, accuracy: 1e-9)
        XCTAssertTrue(ProbeGain.isExtrapolated(matchingSteps: n, short: 90, full: 120))
        // Worse than vanilla's short run: a negative gain.
        XCTAssertLessThan(try XCTUnwrap(ProbeGain.gain(selectingLoss: 5.1, short: 90, shortLoss: 5, full: 120, fullLoss: 4.8)), 0)
    }

    func testUndefinedWhenVanillaDidNotImproveOrTheLineNeverReaches() {
        XCTAssertNil(ProbeGain.matchingSteps(loss: 4, short: 90, shortLoss: 5, full: 120, fullLoss: 5))
        XCTAssertNil(ProbeGain.matchingSteps(loss: 4, short: 90, shortLoss: 5, full: 120, fullLoss: 5.1))
        XCTAssertNil(ProbeGain.matchingSteps(loss: .nan, short: 90, shortLoss: 5, full: 120, fullLoss: 4.8))
        // 90 + (7 − 5) · 30 / (−0.2) = −210 steps: no budget reaches it.
        XCTAssertNil(ProbeGain.matchingSteps(loss: 7, short: 90, shortLoss: 5, full: 120, fullLoss: 4.8))
    }

    func testRatioAndBreakEven() {
        XCTAssertEqual(ProbeGain.ratio(gain: 0.2, overhead: 0.05), 0.84, accuracy: 1e-12)
        // At the break-even gain the ratio is exactly 1.
        for o in [0.0, 0.017, 0.069, 0.5] {
            XCTAssertEqual(ProbeGain.ratio(gain: ProbeGain.breakEven(overhead: o), overhead: o), 1, accuracy: 1e-12)
        }
    }

    func testVerdictRules() {
        XCTAssertEqual(Advice.verdict(ratios: [0.9, 0.95]), .select)
        XCTAssertEqual(Advice.verdict(ratios: [1.0, 1.2]), .notYet)
        XCTAssertEqual(Advice.verdict(ratios: [0.9, 1.1]), .undecided)
        XCTAssertEqual(Advice.verdict(ratios: [0.9, nil]), .undecided)
        XCTAssertEqual(Advice.verdict(ratios: []), .undecided)
    }

    func testConclusionPicksTheBestWorstCase() {
        func candidate(_ exit: Int, _ ratios: [Double?]) -> Advice.Candidate {
            Advice.Candidate(exitLayer: exit, selectFraction: 0.75, losses: [], secondsPerStep: 1, overhead: 0,
                             matchingSteps: [], extrapolated: [], gains: [], ratios: ratios, verdict: Advice.verdict(ratios: ratios))
        }
        // Both select; the second's worst case (0.92) beats the first's (0.95) though the first has the best seed.
        var result = Advice.conclude([candidate(1, [0.80, 0.95]), candidate(2, [0.90, 0.92])])
        XCTAssertEqual(result.verdict, .select)
        XCTAssertEqual(result.recommended, 1)
        result = Advice.conclude([candidate(1, [1.1, 1.2]), candidate(2, [0.9, 1.05])])
        XCTAssertEqual(result.verdict, .undecided)
        XCTAssertNil(result.recommended)
        XCTAssertEqual(Advice.conclude([candidate(1, [1.1, 1.2])]).verdict, .notYet)
    }

    func testDeeperExitHint() {
        let f = [Advice.Fidelity(exitLayer: 1, spearman: 0.8, topOverlap: 0.70), Advice.Fidelity(exitLayer: 2, spearman: 0.85, topOverlap: 0.79),
                 Advice.Fidelity(exitLayer: 3, spearman: 0.9, topOverlap: 0.81)]
        XCTAssertEqual(Advice.deeperExit(than: 1, fidelity: f), 3)
        XCTAssertNil(Advice.deeperExit(than: 2, fidelity: f))
    }
}
