import Foundation
import SiftTestSupport
import XCTest

/// `tools/paper_report.py` (launch/paper.sh's report) and the verdict bullet `tools/verdict_report.py` writes
/// from it, on logs written here: the steps to each target are interpolated between evaluations, SIFT's start
/// is read back from the logged scoring counts, the time ratios price each step at its policy's idle cost, and
/// the share of the steps after the start that SIFT saved is set against the break-even of its step cost.
final class PaperReportTests: XCTestCase {
    /// A 100-step metrics log with evaluations (step, loss, accuracy) and its closing row; from `start` on each
    /// step scores a pool of 43 candidates (`samples_scored` counts them from the start).
    func log(evals: [(Int, Double, Double)], start: Int? = nil) -> String {
        var rows: [String] = []
        for s in 1...100 {
            let scored = start.map { s >= $0 ? (s - $0 + 1) * 43 : 0 } ?? 0
            var row = "{\"step\":\(s),\"elapsed\":\(Double(s)),\"samples_scored\":\(scored),\"train_loss\":6.0"
            if let e = evals.first(where: { $0.0 == s && s < 100 }) { row += ",\"val_loss\":\(e.1),\"val_accuracy\":\(e.2)" }
            rows.append(row + "}")
        }
        let last = evals[evals.count - 1]
        rows.append(
            "{\"elapsed\":100.0,\"final\":true,\"step\":100,\"val_accuracy\":\(last.2),\"val_loss\":\(last.1),"
                + "\"val_masked_tokens\":30000}")
        return rows.joined(separator: "\n") + "\n"
    }

    func testStepsAfterTheStartAreSetAgainstTheBreakEven() throws {
        let root = temporaryDirectory("paper-report")
        let dir = root + "/experiment/paper"
        try FileManager.default.createDirectory(atPath: dir + "/gcide", withIntermediateDirectories: true)
        let vanilla = log(evals: [(20, 6.0, 0.1), (40, 5.0, 0.3), (60, 4.0, 0.5), (80, 3.5, 0.56), (100, 3.0, 0.60)])
        let sift = log(evals: [(20, 6.0, 0.1), (40, 5.0, 0.3), (60, 4.0, 0.5), (80, 3.25, 0.57), (100, 2.9, 0.61)], start: 41)
        try vanilla.write(toFile: dir + "/gcide/vanilla-s1.jsonl", atomically: true, encoding: .utf8)
        try sift.write(toFile: dir + "/gcide/sift-s1.jsonl", atomically: true, encoding: .utf8)
        try "{\"vanilla\": 1.0, \"sift\": 1.1, \"cpu\": \"test\", \"command\": \"test\"}\n"
            .write(toFile: dir + "/step-costs.json", atomically: true, encoding: .utf8)
        let index = root + "/EXPERIMENTS.md"
        try "<!-- generated: verdict -->\n<!-- /generated -->\n\n<!-- generated: paper -->\n<!-- /generated -->\n"
            .write(toFile: index, atomically: true, encoding: .utf8)
        let tool = SiftProcess.repository.appendingPathComponent("tools/paper_report.py").path
        let out = try SiftProcess.run([tool, "--dir", dir, "--index", index], timeout: 60, launcher: "/usr/bin/python3")
        XCTAssertEqual(out.status, 0, out.stderr)

        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/verdict.json"))
        let verdict = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let seed = try XCTUnwrap((verdict["seeds"] as? [[String: Any]])?.first)
        XCTAssertEqual(seed["sift_start"] as? Int, 41)
        let steps = try XCTUnwrap(seed["steps"] as? [String: [Double]])
        // vanilla's best accuracy 0.60 at step 100; SIFT crosses it between 0.57 (80) and 0.61 (100): step 95.
        XCTAssertEqual(steps["acc"]?[0] ?? 0, 100, accuracy: 1e-9)
        XCTAssertEqual(steps["acc"]?[1] ?? 0, 95, accuracy: 1e-9)
        // 55%: vanilla between 0.5 (60) and 0.56 (80), step 76.67; SIFT between 0.5 and 0.57, step 74.29.
        XCTAssertEqual(steps["mark"]?[0] ?? 0, 60 + 20 * 0.05 / 0.06, accuracy: 1e-6)
        XCTAssertEqual(steps["mark"]?[1] ?? 0, 60 + 20 * 0.05 / 0.07, accuracy: 1e-6)
        // vanilla's final loss 3.0: SIFT between 3.25 (80) and 2.9 (100), step 94.29.
        XCTAssertEqual(steps["loss"]?[1] ?? 0, 80 + 20 * 0.25 / 0.35, accuracy: 1e-6)
        // Priced: 40 plain steps at 1.0 s, the rest at 1.1 s, against vanilla's 100 at 1.0 s.
        XCTAssertEqual(try XCTUnwrap(seed["acc"] as? Double), (40 + 55 * 1.1) / 100, accuracy: 1e-9)

        // After the start (60 of vanilla's steps to step 100): 5 saved to its best accuracy, 8.3%, below the
        // break-even 0.1 / 1.1 = 9.1%; to 55% 2.38 of 36.67, 6.5%, below; to its final loss 5.71 of 60, 9.5%, above.
        let text = try String(contentsOfFile: index, encoding: .utf8)
        XCTAssertTrue(text.contains("After SIFT started (step 41) it saved"), text)
        XCTAssertTrue(text.contains("to vanilla's best accuracy 8.3% (below the break-even on every seed)"), text)
        XCTAssertTrue(text.contains("to 55% accuracy 6.5% (below the break-even on every seed)"), text)
        XCTAssertTrue(text.contains("to vanilla's final loss 9.5% (above the break-even on every seed)"), text)
        XCTAssertTrue(text.contains("the break-even is 9.1% of the steps SIFT trains"), text)
    }
}
