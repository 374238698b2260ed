import Core
import Foundation
import SiftTestSupport
import Training
import XCTest

/// Injected failures: a stalled rank, a NaN on one rank, a killed rank, a crashed or starved
/// checkpoint writer. Each must end in a clear outcome, never a hang or a lost checkpoint.
final class ReliabilityTests: XCTestCase {
    /// The repository root (kept here for the tests that name it through this class).
    static let repository = SiftProcess.repository

    func tempDir(_ tag: String) -> String { temporaryDirectory("rel-" + tag) }

    func testWatchdogEndsJobWhenOneRankStalls() throws {
        let p = try TrainingFixture.paths()
        let args = TrainingFixture.trainArguments(
            p, policy: "sift", steps: 6, checkpointDir: tempDir("stall"),
            extra: ["--watchdog-seconds", "3", "--debug-stall-rank", "1", "--debug-stall-step", "2"])
        let started = Date()
        let out = try SiftProcess.run(args, ranks: 2, timeout: 90)
        XCTAssertFalse(out.timedOut, "the job hung despite the watchdog")
        XCTAssertNotEqual(out.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 60)
        XCTAssertTrue(out.stderr.contains("watchdog: rank 1 stalled"), out.stderr)
        XCTAssertTrue(out.stderr.contains("phase 'scoring' of step 2"), out.stderr)
    }

    /// An error one rank meets alone after setup (injected: thrown after step 2 on rank 0, then on rank 1,
    /// as the `TrainingError` every rank otherwise meets together) ends the whole job with that rank's
    /// message and a non-zero exit, long before the watchdog's 900 s. Seen failing (the job hung until the
    /// 90 s timeout) while the failing rank waited in MPI_Finalize for ranks that had gone on.
    func testErrorOnOneRankAloneEndsEveryRankWithItsMessage() throws {
        let p = try TrainingFixture.paths()
        for rank in 0..<2 {
            let args = TrainingFixture.trainArguments(
                p, policy: "sift", steps: 6, checkpointDir: tempDir("alone-\(rank)"),
                extra: ["--debug-fail-rank", "\(rank)", "--debug-fail-step", "2"])
            let out = try SiftProcess.run(args, ranks: 2, timeout: 90)
            XCTAssertFalse(out.timedOut, "rank \(rank): the job hung")
            XCTAssertNotEqual(out.status, 0, out.stderr)
            XCTAssertTrue(
                out.stderr.contains("error: ") && out.stderr.contains("injected failure on rank \(rank) after step 2"), out.stderr)
            XCTAssertFalse(out.stderr.contains("Fatal error"), out.stderr)
        }
    }

    /// Output paths are checked on rank 0 before any rank starts: a missing folder of `--metrics` is
    /// created (it hung the job before: rank 0 failed to open the file, rank 1 waited forever), and a
    /// path that cannot be created ends every rank at setup with status 2.
    func testOutputPathsAreCheckedBeforeAnyRankStarts() throws {
        let p = try TrainingFixture.paths()
        let dir = tempDir("outputs")
        let metrics = dir + "/not/yet/metrics.jsonl"
        let ok = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 2, checkpointDir: dir + "/ck",
                extra: ["--metrics", metrics]), ranks: 2, timeout: 90)
        XCTAssertFalse(ok.timedOut, "the job hung")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").count, 3)
        try "a file".write(toFile: dir + "/plain", atomically: true, encoding: .utf8)
        for (flag, path, says) in [
            ("--metrics", dir + "/plain/m.jsonl", "cannot create its folder \(dir)/plain"),
            ("--selection-log", dir, "is a directory"),
            ("--checkpoint-dir", dir + "/plain/ck", "cannot be created: \(dir)/plain is a file"),
            ("--export", dir + "/plain/hf", "cannot be created: \(dir)/plain is a file"),
            ("--tensorboard", dir + "/plain", "is a file, not a directory")
        ] {
            var args = TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: dir + "/ck2")
            if let i = args.firstIndex(of: flag) { args[i + 1] = path } else { args += [flag, path] }
            let out = try SiftProcess.run(args, ranks: 2, timeout: 90)
            XCTAssertFalse(out.timedOut, "\(flag): the job hung")
            XCTAssertEqual(out.status, 2, "\(flag): \(out.stderr)")
            XCTAssertTrue(out.stderr.contains("error: rank 0: \(flag) ") && out.stderr.contains(says), "\(flag): \(out.stderr)")
            XCTAssertFalse(out.stdout.contains("step 1"), "\(flag): a step ran: \(out.stdout)")
        }
    }

    func testNonFiniteGradientOnOneRankStopsEveryRankWithTheStep() throws {
        let p = try TrainingFixture.paths()
        let dir = tempDir("nan")
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 6, checkpointDir: dir,
                extra: ["--debug-nan-step", "3", "--checkpoint-every", "1"]),
            ranks: 2, timeout: 90)
        XCTAssertFalse(out.timedOut)
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("non-finite gradient norm at step 3"), out.stderr)
        // Nothing was trained on the NaN: the newest checkpoint is the last good step.
        XCTAssertEqual(TrainingCheckpoint.list(directory: dir).last?.step, 2)
    }

    func testKilledRankIsRelaunchedAndFinishesBitIdentical() throws {
        let p = try TrainingFixture.paths()
        let straight = tempDir("straight")
        let a = try SiftProcess.run(TrainingFixture.trainArguments(p, policy: "sift", steps: 8, checkpointDir: straight), ranks: 2)
        XCTAssertEqual(a.status, 0, a.stderr)

        let killed = tempDir("killed")
        let launcher = Process()
        launcher.executableURL = URL(fileURLWithPath: SiftProcess.repository.appendingPathComponent("launch/mpirun.sh").path)
        launcher.arguments =
            ["-np", "2", "--max-restarts", "2", "--"]
            + TrainingFixture.trainArguments(
                p, policy: "sift", steps: 8, checkpointDir: killed,
                extra: ["--checkpoint-every", "1", "--resume-or-start", "--debug-step-delay", "0.5"])
        var env = ProcessInfo.processInfo.environment
        env["SIFT_BINARY"] = SiftProcess.binary
        env["OPENBLAS_NUM_THREADS"] = "1"
        launcher.environment = env
        let errPath = killed + "-stderr.txt"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: errPath) }
        launcher.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let outPath = killed + "-stdout.txt"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: outPath) }
        launcher.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        try launcher.run()
        defer { if launcher.isRunning { launcher.terminate() } }

        // Wait for step 3's checkpoint, then SIGKILL one rank (a `sift` process of this run).
        let deadline = Date().addingTimeInterval(120)
        while (TrainingCheckpoint.list(directory: killed).last?.step ?? 0) < 3 {
            guard launcher.isRunning else { return XCTFail("the run ended before it could be interrupted") }
            guard Date() < deadline else { return XCTFail("no checkpoint of step 3 within 120 s") }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let killedAfter = TrainingCheckpoint.list(directory: killed).last!.step
        let victim = try XCTUnwrap(rankPIDs(matching: killed).first, "no rank process found")
        XCTAssertEqual(kill(victim, SIGKILL), 0)

        while launcher.isRunning && Date() < deadline.addingTimeInterval(120) { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertFalse(launcher.isRunning, "relaunched job did not finish")
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        XCTAssertEqual(launcher.terminationStatus, 0, stderr)
        XCTAssertTrue(stderr.contains("restart 1 of 2"), stderr)
        // The relaunch continued from a checkpoint written before the kill (a restart from step 0 would
        // also end bit-identical, so this is what shows the resume).
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let resumedAt = stdout.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("resumed from "), let r = line.range(of: " at step ") else { return nil }
            return Int(line[r.upperBound...])
        }
        XCTAssertEqual(resumedAt.count, 1, stdout)
        XCTAssertGreaterThanOrEqual(resumedAt.first ?? 0, killedAfter, stdout)
        let x = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: straight).last!.path)
        let y = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: killed).last!.path)
        XCTAssertEqual(y.state.step, 8)
        assertBitIdentical(x.parameters.array, y.parameters.array, "weights differ after the restart")
        assertBitIdentical(x.m.array, y.m.array, "first moments differ after the restart")
        assertBitIdentical(x.v.array, y.v.array, "second moments differ after the restart")
    }

    func rankPIDs(matching needle: String) -> [pid_t] { SiftProcess.rankPIDs(matching: needle) }

    /// A checkpoint writer really SIGKILLed: `sift train --checkpoint-every 1` with every save slowed
    /// to ~2.4 s (24 pieces, 0.1 s apart), killed at a seeded random moment in each of three trials.
    /// Every checkpoint left behind loads (no torn `step-*.ckpt`), `--resume` continues from the newest
    /// one and ends with weights, m and v bit-identical to an uninterrupted run, and the next save
    /// clears the dead writer's temporary file.
    func testWriterKilledMidSaveLeavesLoadableCheckpointsAndResumesBitIdentical() throws {
        let p = try TrainingFixture.paths()
        let straight = tempDir("kill-straight")
        let a = try SiftProcess.run(TrainingFixture.trainArguments(p, policy: "sift", steps: 5, checkpointDir: straight))
        XCTAssertEqual(a.status, 0, a.stderr)
        let x = try TrainingCheckpoint.load(path: try XCTUnwrap(TrainingCheckpoint.list(directory: straight).last).path)
        var midWrite = 0
        var state: UInt64 = 0x5EED
        for trial in 0..<3 {
            let dir = tempDir("kill-\(trial)")
            let writer = Process()
            writer.executableURL = URL(fileURLWithPath: SiftProcess.binary)
            writer.arguments = TrainingFixture.trainArguments(
                p, policy: "sift", steps: 5, checkpointDir: dir,
                extra: ["--checkpoint-every", "1", "--keep-checkpoints", "2", "--debug-save-pause", "0.1"])
            var env = ProcessInfo.processInfo.environment
            env["OPENBLAS_NUM_THREADS"] = "1"
            writer.environment = env
            writer.standardOutput = FileHandle.nullDevice
            writer.standardError = FileHandle.nullDevice
            try writer.run()
            // Seeded moment: 1–7 s in, i.e. during one of the first three saves (startup ~0.5 s, step < 0.1 s).
            state = CounterHash.mix(state &+ UInt64(trial))
            let delay = 1 + 6 * CounterHash.unit(state)
            Thread.sleep(forTimeInterval: delay)
            guard writer.isRunning else { return XCTFail("trial \(trial): the run ended before the kill at \(delay) s") }
            XCTAssertEqual(kill(writer.processIdentifier, SIGKILL), 0)
            writer.waitUntilExit()
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            if names.contains(where: { $0.hasPrefix(".tmp-") }) { midWrite += 1 }
            let left = TrainingCheckpoint.list(directory: dir)
            for c in left { XCTAssertNoThrow(try TrainingCheckpoint.load(path: c.path), "trial \(trial): \(c.path) is torn") }

            let resumed = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "sift", steps: 5, checkpointDir: dir,
                    extra: ["--checkpoint-every", "1", "--keep-checkpoints", "2", "--resume-or-start"]))
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            if let newest = left.last {
                XCTAssertTrue(
                    resumed.stdout.contains("resumed from \(newest.path) at step \(newest.step)"), "trial \(trial): \(resumed.stdout)")
            } else {
                XCTAssertTrue(resumed.stdout.contains("starting from step 0"), "trial \(trial): \(resumed.stdout)")
            }
            let y = try TrainingCheckpoint.load(path: try XCTUnwrap(TrainingCheckpoint.list(directory: dir).last).path)
            XCTAssertEqual(y.state.step, 5)
            assertBitIdentical(x.parameters.array, y.parameters.array, "trial \(trial): weights")
            assertBitIdentical(x.m.array, y.m.array, "trial \(trial): first moments")
            assertBitIdentical(x.v.array, y.v.array, "trial \(trial): second moments")
            let after = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            XCTAssertFalse(
                after.contains { $0.hasPrefix(".tmp-") }, "trial \(trial): the dead writer's temporary file is still there: \(after)")
        }
        XCTAssertGreaterThan(midWrite, 0, "no kill landed in the middle of a save")
    }

    /// The replica check fires: rank 2 of 3 perturbs one weight after step 2; with a check every step,
    /// every rank stops at step 2 naming rank 2, and the last checkpoint is step 1's.
    func testReplicaCheckFiresWhenOneReplicaDiverges() throws {
        let p = try TrainingFixture.paths()
        let dir = tempDir("diverge")
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 5, checkpointDir: dir,
                extra: ["--check-replicas-every", "1", "--checkpoint-every", "1", "--debug-diverge-rank", "2", "--debug-diverge-step", "2"]),
            ranks: 3, timeout: 120)
        XCTAssertFalse(out.timedOut)
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("error: model replicas diverged at step 2: ranks [2] differ from rank 0"), out.stderr)
        XCTAssertEqual(TrainingCheckpoint.list(directory: dir).last?.step, 1)
        // Without the perturbation the same run passes every check.
        let clean = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 3, checkpointDir: tempDir("clean"),
                extra: ["--check-replicas-every", "1"]), ranks: 3, timeout: 120)
        XCTAssertEqual(clean.status, 0, clean.stderr)
    }

    /// --target-accuracy stops at the first evaluation that reaches it, says so, and checkpoints there;
    /// an unreachable target runs to --steps.
    func testTargetAccuracyStopsTheRun() throws {
        let p = try TrainingFixture.paths()
        // A run without a target: the first evaluation with a non-zero accuracy (step s, accuracy a).
        let probe = tempDir("target-probe")
        let plain = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 8, checkpointDir: probe + "/c",
                extra: ["--eval-every", "2", "--metrics", probe + "/m.jsonl"]), ranks: 2, timeout: 120)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        let evals = try String(contentsOfFile: probe + "/m.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["val_accuracy"] != nil && $0["final"] == nil }
        let first = try XCTUnwrap(evals.first { ($0["val_accuracy"] as! Double) > 0 }, "no evaluation with a correct prediction")
        let s = first["step"] as! Int, a = first["val_accuracy"] as! Double
        // The same run with --target-accuracy a stops exactly there.
        let dir = tempDir("target")
        let reached = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 8, checkpointDir: dir,
                extra: ["--eval-every", "2", "--target-accuracy", "\(a * 0.9999)"]), ranks: 2, timeout: 120)  // metrics round to 6 decimals
        XCTAssertEqual(reached.status, 0, reached.stderr)
        XCTAssertTrue(reached.stdout.contains("reached at step \(s) after"), reached.stdout)
        XCTAssertEqual(TrainingCheckpoint.list(directory: dir).last?.step, s)
        let far = tempDir("target-far")
        let unreached = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 4, checkpointDir: far,
                extra: ["--eval-every", "2", "--target-accuracy", "1"]), ranks: 2, timeout: 120)
        XCTAssertEqual(unreached.status, 0, unreached.stderr)
        XCTAssertFalse(unreached.stdout.contains("target accuracy"), unreached.stdout)
        XCTAssertEqual(TrainingCheckpoint.list(directory: far).last?.step, 4)
    }

    func testResumeWithAnotherModelSizeIsRefusedAndKeepsTheCheckpoint() throws {
        let p = try TrainingFixture.paths()
        let dir = tempDir("wrongcfg")
        XCTAssertEqual(
            try SiftProcess.run(TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: dir), ranks: 2).status, 0)
        let path = try XCTUnwrap(TrainingCheckpoint.list(directory: dir).last?.path)
        let before = FileManager.default.contents(atPath: path)
        var args = TrainingFixture.trainArguments(p, policy: "sift", steps: 4, checkpointDir: dir, extra: ["--resume"])
        args[args.firstIndex(of: "--config")! + 1] = "mini"
        let out = try SiftProcess.run(args, ranks: 2, timeout: 90)
        XCTAssertFalse(out.timedOut)
        XCTAssertEqual(out.status, 2, "bad input: the checkpoint does not fit this run")
        XCTAssertTrue(out.stderr.contains("different model configuration"), out.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: path), before)
    }
}
