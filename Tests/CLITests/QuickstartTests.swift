import Foundation
import SiftTestSupport
import Training
import XCTest

/// The main command's code path (launch/quickstart.sh: vocab → prepare → train on 2 ranks → summary)
/// at tiny size, and the summary's arithmetic on a metrics file whose answers are known.
final class QuickstartTests: XCTestCase {
    /// Three plain steps, two selecting ones (the pool scored), one fidelity check, two evaluations and
    /// the final one: every number of the summary follows from these lines by hand.
    let metrics = """
        {"step":1,"elapsed":1.0,"ranks":2,"samples_scored":0,"samples_backpropagated":8,"threshold":null,"times":{"data":0.1,"scoring":0,"selection":0,"forward_backward":0.8,"exposed_allreduce":0,"optimizer":0.1,"waiting":0}}
        {"step":2,"elapsed":2.0,"ranks":2,"samples_scored":0,"samples_backpropagated":16,"threshold":null,"times":{"data":0.1,"scoring":0,"selection":0,"forward_backward":0.8,"exposed_allreduce":0,"optimizer":0.1,"waiting":0},"val_loss":7.5,"val_accuracy":0.05}
        {"step":3,"elapsed":3.0,"ranks":2,"samples_scored":0,"samples_backpropagated":24,"threshold":null,"times":{"data":0.1,"scoring":0,"selection":0,"forward_backward":0.8,"exposed_allreduce":0,"optimizer":0.1,"waiting":0}}
        {"step":4,"elapsed":4.5,"ranks":2,"samples_scored":16,"samples_backpropagated":32,"threshold":6.1,"times":{"data":0.1,"scoring":0.3,"selection":0.1,"forward_backward":0.9,"exposed_allreduce":0,"optimizer":0.1,"waiting":0},"fidelity_spearman":0.8,"fidelity_top_overlap":0.75}
        {"step":5,"elapsed":6.0,"ranks":2,"samples_scored":32,"samples_backpropagated":40,"threshold":6.0,"times":{"data":0.1,"scoring":0.5,"selection":0.1,"forward_backward":0.8,"exposed_allreduce":0,"optimizer":0.1,"waiting":0},"val_loss":7.0,"val_accuracy":0.1}
        {"step":5,"final":true,"val_loss":6.9,"val_accuracy":0.125,"val_masked_tokens":1234,"elapsed":6.0}
        {"step":6,"elapsed":
        """

    func testSummaryArithmetic() throws {
        let s = try RunSummary(metricsJSONLines: metrics)
        XCTAssertEqual(s.steps, 5)
        XCTAssertEqual(s.ranks, 2)
        XCTAssertEqual(s.selectingSteps, 2)
        XCTAssertEqual(s.selectingShare, 0.4, accuracy: 1e-12)
        XCTAssertEqual(s.samplesScored, 32)
        XCTAssertEqual(s.samplesBackpropagated, 40)
        XCTAssertEqual(s.final, RunSummary.Evaluation(step: 5, loss: 6.9, accuracy: 0.125))
        XCTAssertEqual(s.evaluations.map(\.step), [2, 5, 5])
        XCTAssertEqual(s.validationTokens, 1234)
        XCTAssertEqual(s.trainingSeconds, 6.0)
        XCTAssertEqual(try XCTUnwrap(s.meanPlainStep), 1.0, accuracy: 1e-12)  // (0.1 + 0.8 + 0.1) each
        XCTAssertEqual(try XCTUnwrap(s.meanSelectingStep), 1.55, accuracy: 1e-12)  // (1.5 + 1.6) / 2
        XCTAssertEqual(try XCTUnwrap(s.meanSelectionCost), 0.5, accuracy: 1e-12)  // (0.4 + 0.6) / 2
        XCTAssertEqual(try XCTUnwrap(s.meanSpearman), 0.8, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(s.meanTopOverlap), 0.75, accuracy: 1e-12)
        XCTAssertEqual(s.fidelityChecks, 1)
        XCTAssertEqual(try XCTUnwrap(s.phaseSeconds["scoring"]), 0.8, accuracy: 1e-12)
        XCTAssertEqual(s.phaseTotal, 6.1, accuracy: 1e-12)  // 3 × 1.0 + 1.5 + 1.6
        XCTAssertThrowsError(try RunSummary(metricsJSONLines: "{\"step\":1,\"final\":true}\n"))
    }

    /// `launch/quickstart.sh` itself, with its corpus replaced by the training fixture's and the run
    /// shrunk by extra arguments (which win over the script's): it must train on 2 ranks, export the
    /// model and print the summary block with the run's own numbers.
    func testQuickstartAtTinySize() throws {
        let fixture = try TrainingFixture.paths()
        let work = temporaryDirectory("quickstart")
        let script = SiftProcess.repository.appendingPathComponent("launch/quickstart.sh").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: script)
        p.arguments = [
            "--config", "tiny", "--batch-size", "8", "--micro-batch", "4", "--steps", "6", "--sift-delay", "3",
            "--warmup", "2", "--eval-every", "3", "--eval-samples", "16", "--checkpoint-every", "3",
            "--fidelity-every", "2"
        ]
        var env = ProcessInfo.processInfo.environment
        env["SIFT_BINARY"] = SiftProcess.binary
        env["SIFT_WORK"] = work
        env["SIFT_CORPUS"] = fixture.root + "/corpus"
        env["SIFT_PROGRESS"] = "plain"
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        p.environment = env
        let outURL = URL(fileURLWithPath: work + "/out.txt")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outURL)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        let deadline = Date().addingTimeInterval(600)
        while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        try handle.close()
        let out = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        XCTAssertEqual(p.terminationStatus, 0, out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/model/config.json"), out)
        XCTAssertTrue(out.contains("== summary of \(work)/metrics.jsonl =="), out)
        XCTAssertTrue(out.contains("selection:   3 of 6 steps selected (50.0%)"), out)
        XCTAssertTrue(out.contains("fidelity to the exact loss (2 checks)"), out)
        XCTAssertTrue(out.contains("training:    6 steps on 2 rank(s), 48 samples backpropagated"), out)
        XCTAssertTrue(out.contains("quickstart: "), out)
        // The summary's final line agrees with sift train's own closing line.
        let trainLine = try XCTUnwrap(out.split(separator: "\n").first { $0.hasPrefix("final validation:") })
        let tokens = try XCTUnwrap(trainLine.split(separator: " ").dropLast(2).last)
        XCTAssertTrue(out.contains("over \(tokens) masked tokens"), out)
    }
}
