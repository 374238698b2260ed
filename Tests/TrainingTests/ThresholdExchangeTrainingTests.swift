import Foundation
import Selection
import SiftTestSupport
import Training
import XCTest

/// Whole `sift train` runs (mpirun) with `--selection-exchange threshold` against the allgather: the
/// same selections, so bit-identical weights, at 1, 2 and 3 ranks, with and without rebalancing,
/// with reducible scores and with `last-loss`'s all-+∞ pools (every candidate tied).
final class ThresholdExchangeTrainingTests: XCTestCase {
    struct Run {
        var weights: [Float]
        var rows: [[String: Any]]
        var log: [String]
    }

    func train(
        _ ranks: Int, _ exchange: String, policy: String = "sift", steps: Int = 4, log: Bool = false,
        extra: [String] = []
    ) throws -> Run {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("exchange-\(exchange)-\(policy)-\(ranks)-\(log)-\(extra.count)")
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: policy, steps: steps, checkpointDir: dir + "/ckpt",
                extra: [
                    "--rule", "top", "--selection-exchange", exchange,
                    "--metrics", dir + "/m.jsonl"
                ]
                    + (log ? ["--selection-log", dir + "/s.jsonl"] : []) + extra),
            ranks: ranks, timeout: 300)
        XCTAssertEqual(out.status, 0, "\(exchange) at \(ranks) ranks: \(out.stderr)\n\(out.stdout)")
        XCTAssertFalse(out.timedOut)
        if exchange == "threshold" { XCTAssertTrue(out.stdout.contains("threshold exchange"), out.stdout) }
        let ckpt = try XCTUnwrap(TrainingCheckpoint.list(directory: dir + "/ckpt").last)
        XCTAssertEqual(ckpt.step, steps)
        let rows = try String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["train_loss"] != nil }
        let lines = log ? try String(contentsOfFile: dir + "/s.jsonl", encoding: .utf8).split(separator: "\n").map(String.init) : []
        return Run(weights: try TrainingCheckpoint.load(path: ckpt.path).parameters.array, rows: rows, log: lines)
    }

    /// The metrics that describe the selection and the step agree; the loss means to their last digits
    /// (the threshold exchange sums them per rank).
    func assertSameSteps(_ a: Run, _ b: Run, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.rows.count, b.rows.count, what, file: file, line: line)
        XCTAssertFalse(a.rows.isEmpty, what, file: file, line: line)
        for (x, y) in zip(a.rows, b.rows) {
            for key in ["step", "train_loss", "grad_norm", "threshold", "selected_per_rank", "imbalance", "masked_tokens"] {
                XCTAssertEqual(
                    "\(x[key] ?? "absent")", "\(y[key] ?? "absent")", "\(key) at step \(x["step"] ?? "?"): \(what)",
                    file: file, line: line)
            }
            for key in ["mean_candidate_loss", "mean_selected_loss"] {
                let u = (x[key] as? NSNumber)?.doubleValue, v = (y[key] as? NSNumber)?.doubleValue
                XCTAssertEqual(u == nil, v == nil, "\(key): \(what)", file: file, line: line)
                if let u, let v { XCTAssertEqual(u, v, accuracy: 2e-6, "\(key): \(what)", file: file, line: line) }
            }
        }
    }

    func testOneRankIsBitIdentical() throws {
        let a = try train(1, "allgather"), t = try train(1, "threshold")
        assertBitIdentical(a.weights, t.weights, "1 rank: threshold against allgather")
        assertSameSteps(a, t, "1 rank")
    }

    /// Two ranks with the selection log: the logs (pool, losses, selection) are the same line for line.
    func testTwoRanksAreBitIdenticalAndLogTheSameSelections() throws {
        let a = try train(2, "allgather", log: true), t = try train(2, "threshold", log: true)
        XCTAssertEqual(a.log.count, 4)
        XCTAssertEqual(a.log, t.log)
        assertBitIdentical(a.weights, t.weights, "2 ranks: threshold against allgather")
        assertSameSteps(a, t, "2 ranks")
    }

    /// Three ranks, ranking by reducible scores (loss and score differ) and keeping each rank's own selected.
    func testThreeRanksWithReducibleScoresAndNoRebalanceAreBitIdentical() throws {
        let flags = ["--score", "reducible", "--no-rebalance"]
        let a = try train(3, "allgather", extra: flags), t = try train(3, "threshold", extra: flags)
        assertBitIdentical(a.weights, t.weights, "3 ranks, reducible, no rebalance: threshold against allgather")
        assertSameSteps(a, t, "3 ranks, reducible, no rebalance")
    }

    /// `last-loss` ranks never-backpropagated samples at +∞: on these first steps every candidate ties
    /// there, so the whole selection is the tie-break by global index.
    func testLastLossAllTiedAtInfinityIsBitIdentical() throws {
        let a = try train(2, "allgather", policy: "last-loss", steps: 3, log: true)
        let t = try train(2, "threshold", policy: "last-loss", steps: 3, log: true)
        XCTAssertEqual(a.log, t.log)
        assertBitIdentical(a.weights, t.weights, "2 ranks, last-loss: threshold against allgather")
        assertSameSteps(a, t, "2 ranks, last-loss")
        XCTAssertTrue(a.rows.allSatisfy { $0["threshold"] == nil || $0["threshold"] is NSNull }, "every pool ties at +∞")
    }

    /// Asking for the threshold exchange where it cannot select is a one-line error before any work.
    func testThresholdWithAnotherRuleFailsInOneLine() throws {
        for (flags, needle) in [
            (["--rule", "relative"], "serves only --rule top"),
            (["--policy", "proportional"], "serves only --rule top"),
            (["--policy", "vanilla"], "needs a selecting policy"),
            (["--stale-scores", "2"], "--stale-scores")
        ] {
            let out = try SiftProcess.run(
                ["train", "--data", "/nonexistent-sift-data", "--selection-exchange", "threshold"] + flags,
                timeout: 60)
            XCTAssertNotEqual(out.status, 0, "\(flags)")
            XCTAssertTrue(out.stderr.contains(needle), "\(flags): \(out.stderr)")
            XCTAssertTrue(out.stderr.contains("--selection-exchange threshold"), "\(flags): \(out.stderr)")
            XCTAssertFalse(out.stderr.contains("does not exist"), "checked before the data: \(out.stderr)")
        }
        // auto with another rule is fine (it allgathers): the run gets as far as the missing data.
        let auto = try SiftProcess.run(["train", "--data", "/nonexistent-sift-data", "--rule", "relative"], timeout: 60)
        XCTAssertTrue(auto.stderr.contains("does not exist"), auto.stderr)
    }
}
