import Advice
import XCTest

/// The probe's arithmetic against values worked out by hand, and the verdict's rules.
final class ProbeGainTests: XCTestCase {
    func testMatchingStepsInterpolatesVanillasTwoBudgets() throws {
        // Vanilla: 4.1496 after 150 steps, 4.1162 after 200; the selecting run reached 4.1418 in 150.
        // n* = 150 + (4.1418 − 4.1496) · 50 / (4.1162 − 4.1496) = 150 + 0.0078 · 50 / 0.0334 = 161.676…
        let n = try XCTUnwrap(ProbeGain.matchingSteps(.loss, value: 4.1418, short: 150, shortValue: 4.1496, full: 200, fullValue: 4.1162))
        XCTAssertEqual(n, 150 + 0.0078 * 50 / 0.0334, accuracy: 1e-9)
        let gain = try XCTUnwrap(ProbeGain.gain(.loss, selecting: 4.1418, short: 150, shortValue: 4.1496, full: 200, fullValue: 4.1162))
        XCTAssertEqual(gain, 1 - 150 / n, accuracy: 1e-12)
        XCTAssertEqual(gain, 0.0722, accuracy: 5e-5)
        XCTAssertFalse(ProbeGain.isExtrapolated(matchingSteps: n, short: 150, full: 200))
    }

    func testEndpointsAndExtrapolation() throws {
        // Equal to vanilla's short loss: n* = short, gain 0; equal to its full loss: n* = full, gain 1 − 3/4.
        XCTAssertEqual(ProbeGain.gain(.loss, selecting: 5, short: 90, shortValue: 5, full: 120, fullValue: 4.8), 0)
        XCTAssertEqual(
            try XCTUnwrap(ProbeGain.gain(.loss, selecting: 4.8, short: 90, shortValue: 5, full: 120, fullValue: 4.8)), 0.25,
            accuracy: 1e-12)
        // Better than vanilla's full run: n* = 90 + 0.3 · 30 / 0.2 = 135, past the measured budgets.
        let n = try XCTUnwrap(ProbeGain.matchingSteps(.loss, value: 4.7, short: 90, shortValue: 5, full: 120, fullValue: 4.8))
        XCTAssertEqual(n, 135, accuracy: 1e-9)
        XCTAssertTrue(ProbeGain.isExtrapolated(matchingSteps: n, short: 90, full: 120))
        // Worse than vanilla's short run: a negative gain.
        XCTAssertLessThan(try XCTUnwrap(ProbeGain.gain(.loss, selecting: 5.1, short: 90, shortValue: 5, full: 120, fullValue: 4.8)), 0)
    }

    func testUndefinedWhenVanillaDidNotImproveOrTheLineNeverReaches() {
        XCTAssertNil(ProbeGain.matchingSteps(.loss, value: 4, short: 90, shortValue: 5, full: 120, fullValue: 5))
        XCTAssertNil(ProbeGain.matchingSteps(.loss, value: 4, short: 90, shortValue: 5, full: 120, fullValue: 5.1))
        XCTAssertNil(ProbeGain.matchingSteps(.loss, value: .nan, short: 90, shortValue: 5, full: 120, fullValue: 4.8))
        // 90 + (7 − 5) · 30 / (−0.2) = −210 steps: no budget reaches it.
        XCTAssertNil(ProbeGain.matchingSteps(.loss, value: 7, short: 90, shortValue: 5, full: 120, fullValue: 4.8))
    }

    func testAccuracyMatchingStepsRisesWithTheBudget() throws {
        // Vanilla: 50% after 150 steps, 52% after 200; the selecting run reached 51% in 150.
        // n* = 150 + (0.51 − 0.50) · 50 / (0.52 − 0.50) = 175; gain = 1 − 150/175 = 1/7.
        let n = try XCTUnwrap(ProbeGain.matchingSteps(.accuracy, value: 0.51, short: 150, shortValue: 0.50, full: 200, fullValue: 0.52))
        XCTAssertEqual(n, 175, accuracy: 1e-9)
        XCTAssertFalse(ProbeGain.isExtrapolated(matchingSteps: n, short: 150, full: 200))
        XCTAssertEqual(
            try XCTUnwrap(ProbeGain.gain(.accuracy, selecting: 0.51, short: 150, shortValue: 0.50, full: 200, fullValue: 0.52)),
            1.0 / 7, accuracy: 1e-12)
        // Above vanilla's full run: n* = 150 + 0.03 · 50 / 0.02 = 225 (extrapolated), gain 1/3.
        let beyond = try XCTUnwrap(
            ProbeGain.matchingSteps(.accuracy, value: 0.53, short: 150, shortValue: 0.50, full: 200, fullValue: 0.52))
        XCTAssertEqual(beyond, 225, accuracy: 1e-9)
        XCTAssertTrue(ProbeGain.isExtrapolated(matchingSteps: beyond, short: 150, full: 200))
        // Below vanilla's short run: n* = 125, gain 1 − 150/125 = −0.2.
        XCTAssertEqual(
            try XCTUnwrap(ProbeGain.gain(.accuracy, selecting: 0.49, short: 150, shortValue: 0.50, full: 200, fullValue: 0.52)),
            -0.2, accuracy: 1e-12)
    }

    /// The direction: a metric that moved the wrong way between vanilla's budgets prices nothing.
    func testDirectionDecidesWhichVanillaMovementPrices() {
        // Rising values: an accuracy curve, not a loss curve.
        XCTAssertNotNil(ProbeGain.matchingSteps(.accuracy, value: 0.51, short: 150, shortValue: 0.50, full: 200, fullValue: 0.52))
        XCTAssertNil(ProbeGain.matchingSteps(.loss, value: 0.51, short: 150, shortValue: 0.50, full: 200, fullValue: 0.52))
        // Falling values: a loss curve, not an accuracy curve.
        XCTAssertNotNil(ProbeGain.matchingSteps(.loss, value: 0.51, short: 150, shortValue: 0.52, full: 200, fullValue: 0.50))
        XCTAssertNil(ProbeGain.matchingSteps(.accuracy, value: 0.51, short: 150, shortValue: 0.52, full: 200, fullValue: 0.50))
        // Flat accuracy, a non-finite value, and a line that reaches the value only at 150 − 0.1 · 50 / 0.02 = −100 steps.
        XCTAssertNil(ProbeGain.matchingSteps(.accuracy, value: 0.51, short: 150, shortValue: 0.50, full: 200, fullValue: 0.50))
        XCTAssertNil(ProbeGain.matchingSteps(.accuracy, value: .nan, short: 150, shortValue: 0.50, full: 200, fullValue: 0.52))
        XCTAssertNil(ProbeGain.matchingSteps(.accuracy, value: 0.40, short: 150, shortValue: 0.50, full: 200, fullValue: 0.52))
    }

    /// A configuration's prediction on one metric, per seed, against the closed forms.
    func testPredictionPerSeed() throws {
        // Seed 1: n* = 175, gain 1/7, ratio (6/7)(1.05) = 0.9. Seed 2: vanilla's accuracy flat, nothing measurable.
        let p = SelectionAdvice.Prediction(
            .accuracy, selecting: [0.51, 0.60], vanilla: [(0.50, 0.52), (0.55, 0.55)], short: 150, full: 200,
            overhead: 0.05)
        XCTAssertEqual(try XCTUnwrap(p.matchingSteps[0]), 175, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(p.gains[0]), 1.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(p.ratios[0]), 0.9, accuracy: 1e-12)
        XCTAssertNil(p.matchingSteps[1])
        XCTAssertNil(p.gains[1])
        XCTAssertNil(p.ratios[1])
        XCTAssertEqual(p.extrapolated, [false, false])
        XCTAssertEqual(p.verdict, .undecided)
        XCTAssertNil(p.worstRatio)
        // The same shape on loss (falling): 4.0 → 3.8, selecting 3.9: n* = 175 too.
        let l = SelectionAdvice.Prediction(.loss, selecting: [3.9], vanilla: [(4.0, 3.8)], short: 150, full: 200, overhead: 0.05)
        XCTAssertEqual(try XCTUnwrap(l.ratios[0]), 0.9, accuracy: 1e-12)
        XCTAssertEqual(l.verdict, .select)
    }

    func testRatioAndBreakEven() {
        XCTAssertEqual(ProbeGain.ratio(gain: 0.2, overhead: 0.05), 0.84, accuracy: 1e-12)
        // At the break-even gain the ratio is exactly 1.
        for o in [0.0, 0.017, 0.069, 0.5] {
            XCTAssertEqual(ProbeGain.ratio(gain: ProbeGain.breakEven(overhead: o), overhead: o), 1, accuracy: 1e-12)
        }
    }

    func testVerdictRules() {
        XCTAssertEqual(SelectionAdvice.verdict(ratios: [0.9, 0.95]), .select)
        XCTAssertEqual(SelectionAdvice.verdict(ratios: [1.0, 1.2]), .notYet)
        XCTAssertEqual(SelectionAdvice.verdict(ratios: [0.9, 1.1]), .undecided)
        XCTAssertEqual(SelectionAdvice.verdict(ratios: [0.9, nil]), .undecided)
        XCTAssertEqual(SelectionAdvice.verdict(ratios: []), .undecided)
    }

    /// A candidate with the given per-seed ratios on loss and (unless nil) on accuracy.
    func candidate(_ exit: Int, loss: [Double?], accuracy: [Double?]? = nil) -> SelectionAdvice.Candidate {
        func prediction(_ ratios: [Double?]) -> SelectionAdvice.Prediction {
            SelectionAdvice.Prediction(
                matchingSteps: ratios.map { _ in 100 }, extrapolated: ratios.map { _ in false },
                gains: ratios.map { $0.map { 1 - $0 } }, ratios: ratios, verdict: SelectionAdvice.verdict(ratios: ratios))
        }
        return SelectionAdvice.Candidate(
            exitLayer: exit, selectFraction: 0.75, secondsPerStep: 1, overhead: 0, losses: loss.map { _ in 3 },
            loss: prediction(loss), accuracies: accuracy.map { $0.map { _ in 0.5 } },
            accuracy: accuracy.map(prediction))
    }

    func testConclusionPicksTheBestWorstCase() {
        // Both select; the second's worst case (0.92) beats the first's (0.95) though the first has the best seed.
        var result = SelectionAdvice.conclude([candidate(1, loss: [0.80, 0.95]), candidate(2, loss: [0.90, 0.92])], metric: .loss)
        XCTAssertEqual(result.verdict, .select)
        XCTAssertEqual(result.recommended, 1)
        result = SelectionAdvice.conclude([candidate(1, loss: [1.1, 1.2]), candidate(2, loss: [0.9, 1.05])], metric: .loss)
        XCTAssertEqual(result.verdict, .undecided)
        XCTAssertNil(result.recommended)
        XCTAssertEqual(SelectionAdvice.conclude([candidate(1, loss: [1.1, 1.2])], metric: .loss).verdict, .notYet)
        // Step times taken while other processes held the cores decide nothing.
        result = SelectionAdvice.conclude([candidate(1, loss: [0.80, 0.95])], metric: .loss, timingsDisturbed: true)
        XCTAssertEqual(result.verdict, .undecided)
        XCTAssertNil(result.recommended)
        // On accuracy, a candidate with no accuracy recorded (advice written before it was) decides nothing.
        XCTAssertEqual(SelectionAdvice.conclude([candidate(1, loss: [0.80, 0.95])], metric: .accuracy).verdict, .undecided)
    }

    /// The verdict follows the metric asked for, whichever of the two pays, and the disagreement is named.
    func testVerdictFollowsTheMetricWhenTheyDisagree() {
        // Pays on loss (0.90, 0.95), not on accuracy (1.05, 1.10).
        let onLoss = candidate(1, loss: [0.90, 0.95], accuracy: [1.05, 1.10])
        XCTAssertEqual(SelectionAdvice.conclude([onLoss], metric: .accuracy).verdict, .notYet)
        XCTAssertNil(SelectionAdvice.conclude([onLoss], metric: .accuracy).recommended)
        XCTAssertEqual(SelectionAdvice.conclude([onLoss], metric: .loss).verdict, .select)
        XCTAssertEqual(SelectionAdvice.conclude([onLoss], metric: .loss).recommended, 0)
        XCTAssertEqual(AdviceReport.disagreement(onLoss), "pays on loss, not on accuracy")
        // The other order: pays on accuracy, not on loss.
        let onAccuracy = candidate(1, loss: [1.05, 1.10], accuracy: [0.90, 0.95])
        XCTAssertEqual(SelectionAdvice.conclude([onAccuracy], metric: .accuracy).verdict, .select)
        XCTAssertEqual(SelectionAdvice.conclude([onAccuracy], metric: .accuracy).recommended, 0)
        XCTAssertEqual(SelectionAdvice.conclude([onAccuracy], metric: .loss).verdict, .notYet)
        XCTAssertEqual(AdviceReport.disagreement(onAccuracy), "pays on accuracy, not on loss")
        // With two candidates, each metric recommends its own.
        let both = [onLoss, candidate(2, loss: [1.05, 1.10], accuracy: [0.90, 0.95])]
        XCTAssertEqual(SelectionAdvice.conclude(both, metric: .accuracy).recommended, 1)
        XCTAssertEqual(SelectionAdvice.conclude(both, metric: .loss).recommended, 0)
        // An undecided metric is named as such; agreement and missing accuracy say nothing.
        XCTAssertEqual(
            AdviceReport.disagreement(candidate(1, loss: [0.9, 0.95], accuracy: [0.9, nil])),
            "pays on loss, undecided on accuracy")
        XCTAssertEqual(
            AdviceReport.disagreement(candidate(1, loss: [0.9, 1.1], accuracy: [1.1, 1.2])),
            "does not pay on accuracy, undecided on loss")
        XCTAssertNil(AdviceReport.disagreement(candidate(1, loss: [0.9, 0.95], accuracy: [0.8, 0.9])))
        XCTAssertNil(AdviceReport.disagreement(candidate(1, loss: [0.9, 0.95])))
    }

    func testDeeperExitHint() {
        let f = [
            SelectionAdvice.Fidelity(exitLayer: 1, spearman: 0.8, topOverlap: 0.70),
            SelectionAdvice.Fidelity(exitLayer: 2, spearman: 0.85, topOverlap: 0.79),
            SelectionAdvice.Fidelity(exitLayer: 3, spearman: 0.9, topOverlap: 0.81)
        ]
        XCTAssertEqual(SelectionAdvice.deeperExit(than: 1, fidelity: f), 3)
        XCTAssertNil(SelectionAdvice.deeperExit(than: 2, fidelity: f))
    }
}
