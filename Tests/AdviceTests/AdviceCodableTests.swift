import Advice
import Foundation
import SiftTestSupport
import XCTest

/// SelectionAdvice written before accuracy was recorded (the committed docs/experiment/*/advise.json) still decodes,
/// renders and re-encodes without accuracy fields; advice with both metrics renders both and names where
/// they disagree.
final class AdviceCodableTests: XCTestCase {
    /// The committed advise.json files (`tools/experiment_report.py` reads them).
    func committedAdvice() throws -> [(path: String, advice: SelectionAdvice)] {
        let root = SiftProcess.repository.appendingPathComponent("docs/experiment")
        let paths = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
            .map { root.appendingPathComponent($0).appendingPathComponent("advise.json").path }
            .filter { FileManager.default.fileExists(atPath: $0) }
        XCTAssertFalse(paths.isEmpty, "no committed advise.json under \(root.path)")
        return try paths.map { ($0, try JSONDecoder().decode(SelectionAdvice.self, from: Data(contentsOf: URL(fileURLWithPath: $0)))) }
    }

    func testOldAdviceWithoutAccuracyDecodesAndRenders() throws {
        for (path, advice) in try committedAdvice() {
            XCTAssertNil(advice.metric, path)
            XCTAssertEqual(advice.verdictMetric, .loss, path)
            XCTAssertTrue(
                advice.vanilla.allSatisfy { $0.fullAccuracy == nil && $0.shortAccuracy == nil && $0.values(.accuracy) == nil }, path)
            for c in advice.candidates {
                XCTAssertNil(c.accuracies, path)
                XCTAssertNil(c.prediction(.accuracy), path)
                XCTAssertNil(AdviceReport.disagreement(c), path)
                XCTAssertEqual(c.prediction(.loss)?.ratios.count, advice.vanilla.count, path)
            }
            let lines = AdviceReport(advice: advice).lines.joined(separator: "\n")
            XCTAssertTrue(lines.contains("on loss:"), lines)
            XCTAssertFalse(lines.contains("on accuracy:"), lines)
            XCTAssertTrue(lines.contains("verdict (on loss; --metric): " + advice.verdict.rawValue), lines)
            // Re-encoded, it has no accuracy keys: the old shape, which the report scripts read.
            let text = String(decoding: try JSONEncoder().encode(advice), as: UTF8.self)
            XCTAssertFalse(text.contains("ccurac" + "ies") || text.contains("accuracyRatios") || text.contains("\"metric\""), text)
        }
        // The GCIDE stage-6,000 probe: seed 3's vanilla loss did not fall, so its gain is null.
        let gcide = try XCTUnwrap(try committedAdvice().first { $0.path.contains("timed-gcide-mini-6000") }?.advice)
        XCTAssertNil(gcide.candidates[0].gains[2])
        XCTAssertEqual(try XCTUnwrap(gcide.candidates[0].gains[0]), 0.2180337933687928, accuracy: 1e-15)
        XCTAssertEqual(gcide.candidates[0].verdict, .undecided)
    }

    /// The committed GCIDE advice with accuracy added where it pays on loss but not on accuracy: the report
    /// prints both tables and ratios, names the disagreement, and its verdict follows the metric asked for.
    func testReportPrintsBothMetricsAndFollowsTheOneAsked() throws {
        var advice = try XCTUnwrap(try committedAdvice().first { $0.path.contains("timed-gcide-mini-6000") }?.advice)
        // Seed 3's vanilla loss did not fall, and its selecting run was worse: make it pay, so that the loss
        // verdict is `select` (n* = 150 + 0.0062 · 50 / 0.0112 ≈ 178).
        advice.vanilla[2].fullLoss = 2.44
        advice.candidates[0].losses[2] = 2.445
        for s in advice.vanilla.indices {
            advice.vanilla[s].shortAccuracy = 0.60
            advice.vanilla[s].fullAccuracy = 0.61
        }
        var c = advice.candidates[0]
        let loss = SelectionAdvice.Prediction(
            .loss, selecting: c.losses, vanilla: advice.vanilla.map { $0.values(.loss)! },
            short: advice.shortSteps, full: advice.probeSteps, overhead: c.overhead)
        XCTAssertEqual(loss.verdict, .select)
        // Selecting runs at 60.05%: n* = 150 + 0.0005 · 50 / 0.01 = 152.5, gain 1 − 150/152.5, ratio
        // (150/152.5)(1 + overhead) = 1.035 > 1 with the measured overhead of +5.2%.
        let accuracy = SelectionAdvice.Prediction(
            .accuracy, selecting: [0.6005, 0.6005, 0.6005], vanilla: advice.vanilla.map { $0.values(.accuracy)! },
            short: advice.shortSteps, full: advice.probeSteps, overhead: c.overhead)
        XCTAssertEqual(try XCTUnwrap(accuracy.ratios[0]), 150 / 152.5 * (1 + c.overhead), accuracy: 1e-9)
        XCTAssertEqual(accuracy.verdict, .notYet)
        c = SelectionAdvice.Candidate(
            exitLayer: c.exitLayer, selectFraction: c.selectFraction, secondsPerStep: c.secondsPerStep,
            overhead: c.overhead, losses: c.losses, loss: loss, accuracies: [0.6005, 0.6005, 0.6005], accuracy: accuracy)
        advice.candidates = [c]

        for metric in ProbeGain.Metric.allCases {
            advice.metric = metric
            (advice.verdict, advice.recommended) = SelectionAdvice.conclude(advice.candidates, metric: metric)
            let lines = AdviceReport(advice: advice).lines
            let text = lines.joined(separator: "\n")
            XCTAssertTrue(text.contains("on accuracy:") && text.contains("on loss:"), text)
            XCTAssertTrue(text.contains("60.05%"), text)
            XCTAssertEqual(lines.filter { $0.contains("pays on loss, not on accuracy") }.count, 1, text)
            let ratioLine = try XCTUnwrap(lines.first { $0.hasPrefix("predicted wall-clock ratio") })
            XCTAssertTrue(
                ratioLine.contains("on accuracy") && ratioLine.contains("not yet") && ratioLine.contains("on loss")
                    && ratioLine.contains("turn selection on"), ratioLine)
            let verdict = try XCTUnwrap(lines.first { $0.contains("verdict (on") })
            switch metric {
            case .accuracy:
                XCTAssertTrue(verdict.contains("verdict (on accuracy; --metric): not yet"), verdict)
                XCTAssertTrue(verdict.contains("On loss the verdict would be: turn selection on (--metric loss)"), verdict)
            case .loss:
                XCTAssertTrue(verdict.contains("verdict (on loss; --metric): turn selection on: `sift train --policy sift"), verdict)
                XCTAssertTrue(verdict.contains("On accuracy the verdict would be: not yet (--metric accuracy)"), verdict)
            }
            // Both metrics survive a JSON round trip.
            let back = try JSONDecoder().decode(SelectionAdvice.self, from: try JSONEncoder().encode(advice))
            XCTAssertEqual(back.metric, metric)
            XCTAssertEqual(back.candidates[0].prediction(.accuracy), accuracy)
            XCTAssertEqual(back.candidates[0].prediction(.loss), loss)
            XCTAssertEqual(back.vanilla[0].fullAccuracy, 0.61)
        }
    }
}
