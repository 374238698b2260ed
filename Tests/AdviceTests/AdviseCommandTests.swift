import Foundation
import SiftTestSupport
import Training
import XCTest

/// `sift advise` end to end on the tiny fixture: its probe runs are the `sift train` runs they claim to be
/// (the same final validation losses and accuracies, run separately), its result does not depend on the
/// number of ranks, its arithmetic on both metrics follows from the values it reports, its verdict follows
/// --metric, and bad input fails with one line.
final class AdviseCommandTests: XCTestCase {
    /// A tiny model trained for a few steps and exported: the warm start of every test here.
    static func warmStart() throws -> (model: String, data: String, vocab: String) {
        let p = try TrainingFixture.paths()
        let dir = p.root + "/advise-warm-start"
        if FileManager.default.fileExists(atPath: dir + "/model.safetensors") { return (dir, p.dataset, p.vocab) }
        let out = try SiftProcess.run([
            "train", "--config", "tiny", "--data", p.dataset, "--policy", "vanilla", "--batch-size", "8",
            "--micro-batch", "4", "--steps", "12", "--warmup", "2", "--lr", "2e-3", "--eval-every", "0",
            "--eval-samples", "16", "--seed", "5", "--export", dir, "--overwrite-export"
        ])
        guard out.status == 0 else { throw TrainingFixture.FixtureError(message: "warm-start training failed: \(out.stderr)") }
        return (dir, p.dataset, p.vocab)
    }

    static let probeFlags = [
        "--probe-steps", "8", "--seeds", "3,4", "--batch-size", "8", "--micro-batch", "4", "--lr", "2e-3",
        "--warmup", "1", "--eval-samples", "24", "--fidelity-pools", "2", "--exit-layers", "1",
        "--select-fractions", "0.5"
    ]

    func advise(ranks: Int?, json: String, extra: [String] = []) throws -> [String: Any] {
        let w = try Self.warmStart()
        let out = try SiftProcess.run(
            ["advise", "--model", w.model, "--data", w.data, "--json", json] + Self.probeFlags + extra,
            ranks: ranks)
        XCTAssertEqual(out.status, 0, out.stderr)
        let metric = extra.contains("loss") ? "loss" : "accuracy"
        XCTAssertTrue(out.stdout.contains("verdict (on \(metric); --metric):"), out.stdout)
        XCTAssertTrue(out.stdout.contains("on accuracy:") && out.stdout.contains("on loss:"), out.stdout)
        XCTAssertTrue(out.stdout.contains("predicted wall-clock ratio, exit 1, ρ 0.5: on accuracy "), out.stdout)
        XCTAssertTrue(out.stdout.contains("selection exchange (--selection-exchange resolved as `sift train` resolves it at "), out.stdout)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
        return try XCTUnwrap(object as? [String: Any])
    }

    /// The final validation loss and accuracy of `sift train` with the probe run's settings, from its metrics file.
    func trained(policy: String, steps: Int, seed: Int, ranks: Int) throws -> (loss: Double, accuracy: Double) {
        let w = try Self.warmStart()
        let metrics = temporaryDirectory("advise-train") + "/metrics.jsonl"
        let out = try SiftProcess.run(
            [
                "train", "--init-from", w.model, "--data", w.data, "--policy", policy, "--steps", "\(steps)",
                "--seed", "\(seed)", "--batch-size", "8", "--micro-batch", "4", "--lr", "2e-3", "--warmup", "1",
                "--eval-every", "0", "--eval-samples", "24", "--sift-delay", "0", "--exit-layer", "1",
                "--select-fraction", "0.5", "--check-replicas-every", "0", "--metrics", metrics
            ], ranks: ranks)
        XCTAssertEqual(out.status, 0, out.stderr)
        let lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
        let final = try XCTUnwrap(
            lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .last { $0["final"] as? Bool == true })
        return (
            try XCTUnwrap((final["val_loss"] as? NSNumber)?.doubleValue),
            try XCTUnwrap((final["val_accuracy"] as? NSNumber)?.doubleValue)
        )
    }

    func testProbeRunsAreTheTrainRunsTheyClaimAndRankInvariant() throws {
        let two = try advise(ranks: 2, json: temporaryDirectory("advise2") + "/advice.json")
        let one = try advise(ranks: nil, json: temporaryDirectory("advise1") + "/advice.json", extra: ["--metric", "loss"])
        let vanilla2 = try XCTUnwrap(two["vanilla"] as? [[String: Any]])
        let candidate2 = try XCTUnwrap((two["candidates"] as? [[String: Any]])?.first)
        let losses2 = try XCTUnwrap(candidate2["losses"] as? [Double])
        let accuracies2 = try XCTUnwrap(candidate2["accuracies"] as? [Double])
        XCTAssertEqual(vanilla2.count, 2)
        XCTAssertEqual(losses2.count, 2)
        // The probe's selecting runs exchanged as `sift train` with their settings on 2 ranks would: `auto`
        // resolved by `TrainingOptions` (before, the probe's trainers kept `auto` unresolved).
        var trainOptions = TrainingOptions()
        trainOptions.batchSize = 8
        trainOptions.selectFraction = 0.5
        XCTAssertEqual(candidate2["selectionExchange"] as? String, trainOptions.resolvedExchange(ranks: 2).rawValue)
        XCTAssertEqual(accuracies2.count, 2)

        // Seed 4's runs, repeated as plain `sift train` runs on 2 ranks: the same final validation losses and
        // accuracies (metrics print 6 significant digits).
        let v = vanilla2[1]
        XCTAssertEqual(v["seed"] as? Int, 4)
        let full = try trained(policy: "vanilla", steps: 8, seed: 4, ranks: 2)
        let short = try trained(policy: "vanilla", steps: 6, seed: 4, ranks: 2)
        let sift = try trained(policy: "sift", steps: 6, seed: 4, ranks: 2)
        XCTAssertEqual(full.loss, v["fullLoss"] as! Double, accuracy: 1e-4)
        XCTAssertEqual(short.loss, v["shortLoss"] as! Double, accuracy: 1e-4)
        XCTAssertEqual(sift.loss, losses2[1], accuracy: 1e-4)
        XCTAssertEqual(full.accuracy, v["fullAccuracy"] as! Double, accuracy: 1e-5)
        XCTAssertEqual(short.accuracy, v["shortAccuracy"] as! Double, accuracy: 1e-5)
        XCTAssertEqual(sift.accuracy, accuracies2[1], accuracy: 1e-5)

        // One rank against two: the same losses to the rank-invariance tolerance, so the same gains.
        let vanilla1 = try XCTUnwrap(one["vanilla"] as? [[String: Any]])
        let candidate1 = try XCTUnwrap((one["candidates"] as? [[String: Any]])?.first)
        for (a, b) in zip(vanilla1, vanilla2) {
            for key in ["fullLoss", "shortLoss"] {
                XCTAssertEqual(a[key] as! Double, b[key] as! Double, accuracy: 1e-5 * (b[key] as! Double), key)
            }
        }
        for (a, b) in zip(candidate1["losses"] as! [Double], losses2) { XCTAssertEqual(a, b, accuracy: 1e-5 * b) }
        // The verdict follows --metric: two ranks on accuracy (the default), one on loss.
        XCTAssertEqual(two["metric"] as? String, "accuracy")
        XCTAssertEqual(one["metric"] as? String, "loss")
        XCTAssertEqual(two["verdict"] as? String, candidate2["accuracyVerdict"] as? String)
        XCTAssertEqual(one["verdict"] as? String, candidate1["verdict"] as? String)
        let warm1 = one["warmStart"] as! [String: Any], warm2 = two["warmStart"] as! [String: Any]
        XCTAssertEqual(warm1["loss"] as! Double, warm2["loss"] as! Double, accuracy: 1e-6 * (warm2["loss"] as! Double))

        // The reported gains and ratios follow from the reported losses, accuracies and overhead.
        let overhead = try XCTUnwrap(candidate2["overhead"] as? Double)
        for (prefix, key, values, sign) in [("", "Loss", losses2, -1.0), ("accuracy", "Accuracy", accuracies2, 1.0)] {
            let gains = candidate2[prefix.isEmpty ? "gains" : prefix + "Gains"] as! [Any]
            let ratios = candidate2[prefix.isEmpty ? "ratios" : prefix + "Ratios"] as! [Any]
            for (s, v) in vanilla2.enumerated() {
                let full = v["full" + key] as! Double, short = v["short" + key] as! Double
                // Loss must fall and accuracy rise from vanilla's short to its full budget.
                guard sign * (full - short) > 0 else {
                    XCTAssertTrue(gains[s] is NSNull, key)
                    continue
                }
                let n = 6 + (values[s] - short) * 2 / (full - short)
                guard n > 0 else {
                    XCTAssertTrue(gains[s] is NSNull, key)
                    continue
                }
                XCTAssertEqual(gains[s] as! Double, 1 - 6 / n, accuracy: 1e-9, key)
                XCTAssertEqual(ratios[s] as! Double, (6 / n) * (1 + overhead), accuracy: 1e-9, key)
            }
        }
        // Fidelity is measured for exit layers 1 … L − 1 (tiny has 2 layers).
        XCTAssertEqual((two["fidelity"] as? [[String: Any]])?.map { $0["exitLayer"] as? Int }, [1])
    }

    func testBadInputFailsWithOneLine() throws {
        let w = try Self.warmStart()
        let cases: [([String], String)] = [
            (["--model", w.model, "--data", w.data, "--exit-layers", "5"], "--exit-layers: 5 is not a layer of the model's 2"),
            (["--model", w.model, "--data", w.data, "--select-fractions", "0.5,1"], "--select-fractions must each be in (0, 1)"),
            (["--model", w.model, "--data", w.data, "--seeds", "1,x"], "--seeds: 'x' is not a valid value"),
            (["--model", w.model, "--data", w.data, "--probe-steps", "4"], "--probe-steps must be at least 8"),
            (["--model", w.model, "--data", w.data, "--metric", "f1"], "'f1' is invalid for '--metric"),
            (["--model", w.model + "/missing", "--data", w.data], "does not exist")
        ]
        for (args, message) in cases {
            let out = try SiftProcess.run(["advise"] + args)
            XCTAssertNotEqual(out.status, 0, args.joined(separator: " "))
            let lines = out.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            XCTAssertEqual(lines.count, 1, out.stderr)
            XCTAssertTrue(out.stderr.contains(message), "\(args): \(out.stderr)")
        }
    }
}
