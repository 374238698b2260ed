import Foundation
import SiftTestSupport
import Training
import XCTest

/// Elastic restarts: selections and the loss normaliser do not depend on the rank count, so a run
/// stopped on 3 ranks continues on 2 (a node lost) or on 1 and ends where an uninterrupted run ends.
final class ElasticResumeTests: XCTestCase {
    func testStopOnThreeRanksResumeOnTwoMatchesOneRank() throws {
        let p = try TrainingFixture.paths()
        let flags = ["--rule", "relative", "--history-length", "50"]
        let reference = temporaryDirectory("elastic-ref")
        let a = try SiftProcess.run(
            TrainingFixture.trainArguments(p, policy: "sift", steps: 6, checkpointDir: reference, extra: flags), ranks: 1)
        XCTAssertEqual(a.status, 0, a.stderr)
        for (first, second) in [(3, 2), (2, 3)] {
            let dir = temporaryDirectory("elastic-\(first)-\(second)")
            let stop = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 6, checkpointDir: dir,
                    extra: flags + ["--checkpoint-every", "3", "--stop-after", "3"]), ranks: first)
            XCTAssertEqual(stop.status, 0, stop.stderr)
            let resume = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 6, checkpointDir: dir,
                    extra: flags + ["--resume"]), ranks: second)
            XCTAssertEqual(resume.status, 0, resume.stderr)
            XCTAssertTrue(resume.stdout.contains("resumed from") && resume.stdout.contains("at step 3"), resume.stdout)
            XCTAssertTrue(resume.stdout.contains("on \(second) rank(s)"), resume.stdout)
            let x = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: reference).last!.path)
            let y = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir).last!.path)
            XCTAssertEqual(y.state.step, 6)
            XCTAssertEqual(x.state.scoreHistory?.count, y.state.scoreHistory?.count)
            XCTAssertLessThan(relativeDifference(x.parameters.array, y.parameters.array), 1e-5, "\(first) → \(second) ranks: weights")
            XCTAssertLessThan(relativeDifference(x.v.array, y.v.array), 1e-4, "\(first) → \(second) ranks: second moments")
        }
    }

    /// `launch/mpirun.sh --min-np 2`: a 3-rank job whose rank is SIGKILLed relaunches on 2 ranks, resumes from
    /// the newest checkpoint and ends within 1e-5 of an uninterrupted 1-rank run.
    func testLauncherRelaunchesOnFewerRanksAfterARankDies() throws {
        let p = try TrainingFixture.paths()
        let reference = temporaryDirectory("elastic-launch-ref")
        XCTAssertEqual(
            try SiftProcess.run(TrainingFixture.trainArguments(p, policy: "sift", steps: 8, checkpointDir: reference), ranks: 1).status, 0)
        let dir = temporaryDirectory("elastic-launch")
        let launcher = Process()
        launcher.executableURL = ReliabilityTests.repository.appendingPathComponent("launch/mpirun.sh")
        launcher.arguments =
            ["-np", "3", "--max-restarts", "1", "--min-np", "2", "--"]
            + TrainingFixture.trainArguments(
                p, policy: "sift", steps: 8, checkpointDir: dir,
                extra: ["--checkpoint-every", "1", "--resume-or-start", "--debug-step-delay", "0.4"])
        var env = ProcessInfo.processInfo.environment
        env["SIFT_BINARY"] = SiftProcess.binary
        env["OPENBLAS_NUM_THREADS"] = "1"
        launcher.environment = env
        let errPath = dir + "-stderr.txt", outPath = dir + "-stdout.txt"
        for f in [errPath, outPath] { _ = FileManager.default.createFile(atPath: f, contents: nil) }
        addTeardownBlock {
            try? FileManager.default.removeItem(atPath: errPath)
            try? FileManager.default.removeItem(atPath: outPath)
        }
        launcher.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        launcher.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        try launcher.run()
        defer { if launcher.isRunning { launcher.terminate() } }
        let deadline = Date().addingTimeInterval(120)
        while (TrainingCheckpoint.list(directory: dir).last?.step ?? 0) < 3 && launcher.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let ranks = SiftProcess.rankPIDs(matching: dir)
        XCTAssertEqual(ranks.count, 3, "ranks of the 3-rank job")
        XCTAssertTrue(launcher.isRunning, "the run ended before it could be interrupted")
        guard let victim = ranks.last, launcher.isRunning else { return }
        XCTAssertEqual(kill(victim, SIGKILL), 0)
        while launcher.isRunning && Date() < deadline.addingTimeInterval(120) { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertFalse(launcher.isRunning, "relaunched job did not finish")
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        XCTAssertEqual(launcher.terminationStatus, 0, stderr)
        XCTAssertTrue(stderr.contains("restart 1 of 1 on 2 ranks"), stderr)
        XCTAssertTrue(stdout.contains("on 2 rank(s)") && stdout.contains("resumed from"), stdout)
        let x = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: reference).last!.path)
        let y = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: dir).last!.path)
        XCTAssertEqual(y.state.step, 8)
        XCTAssertLessThan(relativeDifference(x.parameters.array, y.parameters.array), 1e-5)
    }
}
