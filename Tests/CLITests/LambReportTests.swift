import Foundation
import SiftTestSupport
import XCTest

/// `tools/lamb_report.py` (launch/lamb_compare.sh's report) on logs written here: the verdict counts the
/// seeds on which LAMB ends ahead of AdamW on each metric, samples seen are the step times the batch read
/// from the logs, a resumed run's repeated steps keep their later copy, and unfinished runs are named. The
/// logs sit in a `b256/` folder, as launch/lamb_compare.sh writes them.
final class LambReportTests: XCTestCase {
    /// A metrics log of `steps` steps at `batch` with evaluations (step, loss, accuracy); `final` ends it
    /// with the final row; `replayed` evaluations are logged first and then replaced (a resumed run).
    func log(
        steps: Int, batch: Int, peakLR: Double, evals: [(Int, Double, Double)], final: Bool = true,
        replayed: [(Int, Double, Double)] = []
    ) -> String {
        var rows: [String] = []
        func stepRow(_ s: Int, _ eval: (Int, Double, Double)?) -> String {
            var row =
                "{\"step\":\(s),\"lr\":\(peakLR * Double(s) / Double(steps)),\"samples_backpropagated\":\(s * batch),"
                + "\"times\":{\"forward_backward\":1.0},\"train_loss\":6.0,\"elapsed\":\(Double(s) * 10)"
            if let eval { row += ",\"val_loss\":\(eval.1),\"val_accuracy\":\(eval.2)" }
            return row + "}"
        }
        for r in replayed { rows.append(stepRow(r.0, r)) }
        for s in 1...steps {
            let eval = evals.first { $0.0 == s && $0.0 < steps }
            rows.append(stepRow(s, eval))
        }
        if final, let last = evals.last {
            rows.append(
                "{\"elapsed\":\(Double(steps) * 10),\"final\":true,\"step\":\(steps),\"val_accuracy\":\(last.2),"
                    + "\"val_loss\":\(last.1),\"val_masked_tokens\":30239}")
        }
        return rows.joined(separator: "\n") + "\n"
    }

    func report(_ logs: [String: String]) throws -> (verdict: [String: Any], results: String, out: SiftProcess.Output) {
        let dir = temporaryDirectory("lamb-report")
        try FileManager.default.createDirectory(atPath: dir + "/b256", withIntermediateDirectories: true)
        for (name, text) in logs { try text.write(toFile: dir + "/b256/" + name + ".jsonl", atomically: true, encoding: .utf8) }
        let tool = SiftProcess.repository.appendingPathComponent("tools/lamb_report.py").path
        let out = try SiftProcess.run([tool, "--dir", dir], timeout: 60, launcher: "/usr/bin/python3")
        XCTAssertEqual(out.status, 0, out.stderr)
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/verdict.json"))
        let verdict = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (verdict, try String(contentsOfFile: dir + "/results.md", encoding: .utf8), out)
    }

    func testVerdictCountsTheSeedsAheadOnEachMetric() throws {
        let a = 2.83e-3
        let l = 4.42e-4
        let logs = [
            // seed 1: LAMB lower loss and higher accuracy; seed 2: lower loss, lower accuracy.
            "adamw-lr2.83e-3-s1": log(steps: 10, batch: 256, peakLR: a, evals: [(5, 5.9, 0.12), (10, 5.5, 0.15)]),
            "lamb-lr4.42e-4-s1": log(steps: 10, batch: 256, peakLR: l, evals: [(5, 5.6, 0.14), (10, 5.4, 0.16)]),
            "adamw-lr2.83e-3-s2": log(steps: 10, batch: 256, peakLR: a, evals: [(5, 5.9, 0.12), (10, 5.5, 0.15)]),
            // resumed: its first copy of step 5 (loss 9.0) is replaced by the later one
            "lamb-lr4.42e-4-s2": log(
                steps: 10, batch: 256, peakLR: l, evals: [(5, 5.7, 0.11), (10, 5.45, 0.14)], replayed: [(5, 9.0, 0.01)]),
            // seed 3: AdamW finished, LAMB still running
            "adamw-lr2.83e-3-s3": log(steps: 10, batch: 256, peakLR: a, evals: [(5, 5.9, 0.12), (10, 5.5, 0.15)]),
            "lamb-lr4.42e-4-s3": log(steps: 10, batch: 256, peakLR: l, evals: [(5, 5.8, 0.12)], final: false)
        ]
        let (verdict, results, _) = try report(logs)
        let pairs = try XCTUnwrap(verdict["pairs"] as? [[String: Any]])
        XCTAssertEqual(pairs.count, 1)
        let pair = pairs[0]
        XCTAssertEqual(pair["lamb"] as? String, "b256/lamb-lr4.42e-4")
        XCTAssertEqual(pair["adamw"] as? String, "b256/adamw-lr2.83e-3")
        XCTAssertEqual(pair["n"] as? Int, 2)
        XCTAssertEqual(pair["loss_ahead"] as? Int, 2)
        XCTAssertEqual(pair["accuracy_ahead"] as? Int, 1)
        XCTAssertEqual(pair["both_ahead"] as? Int, 1)
        XCTAssertEqual(try XCTUnwrap(pair["mean_loss_difference"] as? Double), (-0.1 - 0.05) / 2, accuracy: 1e-9)
        let seeds = try XCTUnwrap(pair["seeds"] as? [[String: Any]])
        // seed 1: LAMB's loss crosses AdamW's final 5.5 between 5.6 (step 5) and 5.4 (step 10): step 7.5, ×256
        XCTAssertEqual(try XCTUnwrap(seeds[0]["lamb_samples_to_adamw_loss"] as? Double), 7.5 * 256, accuracy: 1e-6)
        XCTAssertEqual(seeds[0]["adamw_samples"] as? Int, 2560)
        // seed 2: LAMB never reached AdamW's final accuracy
        XCTAssertTrue(seeds[1]["lamb_samples_to_adamw_accuracy"] is NSNull)
        XCTAssertTrue(
            results.contains("LAMB ahead on 1 of 2 seeds on both metrics (final loss lower on 2, final accuracy higher on 1)"), results)
        XCTAssertTrue(results.contains("| 5 | 1,280 |"), results)  // samples seen = step × 256
        XCTAssertFalse(results.contains("9.0000"), "the replaced copy of a resumed step is shown:\n\(results)")
        XCTAssertTrue(results.contains("Unfinished runs: b256/lamb-lr4.42e-4-s3: at step 10."), results)
        let runs = try XCTUnwrap(verdict["runs"] as? [String: [String: Any]])
        XCTAssertEqual(runs["b256/lamb-lr4.42e-4-s3"]?["finished"] as? Bool, false)
    }

    /// No finished pair: the report says so and the verdict has no pair (the state before the runs).
    func testNoFinishedPairIsNotYetRun() throws {
        let logs = ["adamw-lr2.83e-3-s1": log(steps: 10, batch: 256, peakLR: 2.83e-3, evals: [(5, 5.9, 0.12), (10, 5.5, 0.15)])]
        let (verdict, results, _) = try report(logs)
        XCTAssertEqual((verdict["pairs"] as? [Any])?.count, 0)
        XCTAssertTrue(results.contains("Finished, no run of the other optimizer with the same seed yet: b256/adamw-lr2.83e-3-s1."), results)
        XCTAssertFalse(results.contains("## Verdict"), results)
    }
}
