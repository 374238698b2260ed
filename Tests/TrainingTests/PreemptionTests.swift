import Foundation
import Kernels
import SiftTestSupport
import Training
import XCTest

/// Graceful preemption: a signal to one rank at a random moment stops every rank after the same step
/// with a checkpoint and exit status 75, and the resumed run ends bit-identical to an uninterrupted one.
final class PreemptionTests: XCTestCase {
    func testSignalToOneRankCheckpointsAndResumesBitIdentical() throws {
        let p = try TrainingFixture.paths()
        let steps = 8
        let reference = try uninterrupted(p, steps: steps, tag: "pre-straight")

        // Seeded choices of signal, rank, step and moment within the step (the step sleeps 0.3 s after its
        // work and checkpoints every step, so the signal lands in scoring, allreduce, optimizer, the
        // checkpoint write or the pause).
        var rng = SystemRandomNumberGenerator()
        let seed = UInt64.random(in: 0...UInt64.max, using: &rng)
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        for (trial, sig) in [SIGTERM, SIGUSR1, SIGINT].enumerated() {
            let dir = temporaryDirectory("pre-\(trial)")
            let metrics = dir + "/metrics.jsonl"
            let args = TrainingFixture.trainArguments(
                p, policy: "sift", steps: steps, checkpointDir: dir + "/ckpt",
                extra: ["--checkpoint-every", "1", "--debug-step-delay", "0.3", "--metrics", metrics])
            let job = try start(args, ranks: 2)
            let atStep = 1 + next(4), rank = next(2), extraDelay = Double(next(300)) / 1000
            let deadline = Date().addingTimeInterval(120)
            while linesIn(metrics) < atStep && job.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            Thread.sleep(forTimeInterval: extraDelay)
            let ranks = SiftProcess.rankPIDs(matching: dir + "/ckpt")
            XCTAssertEqual(ranks.count, 2, "trial \(trial) (seed \(seed)): ranks not found")
            guard ranks.count == 2, job.process.isRunning else {
                job.process.terminate()
                continue
            }
            kill(ranks[rank], sig)
            guard waitForPreemption(job, within: 60, "trial \(trial), signal \(sig), rank \(rank) (seed \(seed))") != nil else { continue }
            let stoppedAt = try XCTUnwrap(TrainingCheckpoint.list(directory: dir + "/ckpt").last?.step)
            XCTAssertLessThan(stoppedAt, steps, "trial \(trial): the run was not interrupted")

            try assertResumesBitIdentical(
                args, checkpoints: dir + "/ckpt", from: "at step \(stoppedAt)", steps: steps,
                reference: reference, "trial \(trial)")
        }
    }

    /// A second signal while the preemption checkpoint is being written (the save slowed to ~2.4 s so
    /// the signal lands inside it: SIGTERM again to the writing rank 0, SIGINT to rank 1) changes
    /// nothing: the save completes, the job exits 75, the checkpoint loads and `--resume` ends
    /// bit-identical to an uninterrupted run.
    func testSecondSignalDuringThePreemptionSaveKeepsTheCheckpoint() throws {
        let p = try TrainingFixture.paths()
        let steps = 8
        let reference = try uninterrupted(p, steps: steps, tag: "pre2-straight")

        let dir = temporaryDirectory("pre2")
        let metrics = dir + "/metrics.jsonl", ckpt = dir + "/ckpt"
        let args = TrainingFixture.trainArguments(
            p, policy: "sift", steps: steps, checkpointDir: ckpt,
            extra: ["--checkpoint-every", "100", "--debug-step-delay", "0.3", "--metrics", metrics])
        let job = try start(args + ["--debug-save-pause", "0.1"], ranks: 2)
        let deadline = Date().addingTimeInterval(120)
        while linesIn(metrics) < 2 && job.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let ranks = SiftProcess.rankPIDs(matching: ckpt)
        guard ranks.count == 2, job.process.isRunning else {
            job.process.terminate()
            return XCTFail("ranks not found or the run ended early")
        }
        kill(ranks[0], SIGTERM)
        // Wait for the save to start (its temporary file appears), then signal again inside it.
        var inSave = false
        while !inSave && job.process.isRunning && Date() < deadline {
            inSave = ((try? FileManager.default.contentsOfDirectory(atPath: ckpt)) ?? []).contains { $0.hasPrefix(".tmp-") }
            if !inSave { Thread.sleep(forTimeInterval: 0.01) }
        }
        XCTAssertTrue(inSave, "the preemption save was never seen in progress")
        kill(ranks[0], SIGTERM)
        kill(ranks[1], SIGINT)
        guard waitForPreemption(job, within: 60, "second signal") != nil else { return }
        let saved = try XCTUnwrap(TrainingCheckpoint.list(directory: ckpt).last)
        XCTAssertNoThrow(try TrainingCheckpoint.load(path: saved.path))
        XCTAssertLessThan(saved.step, steps)

        try assertResumesBitIdentical(
            args, checkpoints: ckpt, from: "resumed from \(saved.path) at step \(saved.step)", steps: steps,
            reference: reference, "second signal")
    }

    /// An interrupt to the job's front process stops the job like a preemption: every rank checkpoints,
    /// the job exits 75 and `launch/mpirun.sh --max-restarts 2` does not restart it. Trials: SIGINT and
    /// SIGTERM to the launcher, a real Ctrl-C (byte 0x03 typed into a pseudo-terminal by `script`, so the
    /// terminal driver signals the launcher's process group), and SIGUSR1 to a plain `mpirun`. Each
    /// checkpoint is continued by `--resume` to weights, m and v bit-identical to an uninterrupted run.
    /// Seen failing before the launcher turned interrupts into SIGUSR1 for a mpirun in its own session:
    /// mpirun 4.1 answers SIGINT/SIGTERM by killing the ranks and exiting 1, which the launcher restarted
    /// ("restart 1 of 2", then trained to the end).
    func testInterruptToTheLauncherOrMpirunStopsWithACheckpointAndIsNotRestarted() throws {
        let p = try TrainingFixture.paths()
        let steps = 8
        let reference = try uninterrupted(p, steps: steps, tag: "int-straight")
        let launcher = SiftProcess.repository.appendingPathComponent("launch/mpirun.sh").path
        enum Front { case launcher(Int32), terminal, mpirun(Int32) }
        for (trial, front) in [Front.launcher(SIGINT), .launcher(SIGTERM), .terminal, .mpirun(SIGUSR1)].enumerated() {
            let dir = temporaryDirectory("int-\(trial)")
            let metrics = dir + "/metrics.jsonl", ckpt = dir + "/ckpt"
            let args = TrainingFixture.trainArguments(
                p, policy: "sift", steps: steps, checkpointDir: ckpt,
                extra: [
                    "--checkpoint-every", "100", "--debug-step-delay", "0.5",
                    "--metrics", metrics
                ])
            let job: Job
            var keyboard: Pipe?
            switch front {
            case .launcher: job = try start(["-np", "2", "--max-restarts", "2", "--"] + args, ranks: 2, executable: launcher)
            case .mpirun: job = try start(args, ranks: 2)
            case .terminal:
                guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { continue }
                // `exec`: script runs the line with $SHELL -c; dash (CI's /bin/sh) would otherwise stay as the
                // launcher's parent, die of the same SIGINT and report 130 whatever the launcher returned.
                let line = "exec " + ([launcher, "-np", "2", "--max-restarts", "2", "--"] + args).map { "'\($0)'" }.joined(separator: " ")
                keyboard = Pipe()
                job = try start(["-qefc", line, "/dev/null"], ranks: 2, executable: "/usr/bin/script", input: keyboard)
            }
            let deadline = Date().addingTimeInterval(120)
            while linesIn(metrics) < 2 && job.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            guard job.process.isRunning else {
                XCTFail("trial \(trial): the run ended early: \(job.output())")
                continue
            }
            switch front {
            case .launcher(let sig), .mpirun(let sig): kill(job.process.processIdentifier, sig)
            case .terminal: keyboard!.fileHandleForWriting.write(Data([0x03]))
            }
            guard let out = waitForPreemption(job, within: 90, "trial \(trial)") else { continue }
            XCTAssertFalse(out.stderr.contains("restart") || out.stdout.contains("restart"), "trial \(trial): restarted: \(out.stderr)")
            XCTAssertFalse(out.stdout.contains("resumed from"), "trial \(trial): a second attempt ran: \(out.stdout)")
            guard let saved = TrainingCheckpoint.list(directory: ckpt).last else {
                XCTFail("trial \(trial): no checkpoint")
                continue
            }
            XCTAssertLessThan(saved.step, steps, "trial \(trial): the run was not interrupted")

            try assertResumesBitIdentical(
                args, checkpoints: ckpt, from: "resumed from \(saved.path) at step \(saved.step)",
                steps: steps, reference: reference, "trial \(trial)")
        }
    }

    /// Waits up to `seconds` for a signalled job to end; asserts it ended, with the preemption status and
    /// message. Its output, or nil (the job terminated) when it did not end in time.
    func waitForPreemption(_ job: Job, within seconds: TimeInterval, _ label: String) -> (stdout: String, stderr: String)? {
        let done = Date().addingTimeInterval(seconds)
        while job.process.isRunning && Date() < done { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(job.process.isRunning, "\(label): the preempted job hung")
        if job.process.isRunning {
            job.process.terminate()
            return nil
        }
        let out = job.output()
        XCTAssertEqual(job.process.terminationStatus, Preemption.exitCode, "\(label): \(out.stderr)")
        XCTAssertTrue(out.stdout.contains("preempted at step"), "\(label): \(out.stdout)")
        return out
    }

    /// `args` run again with `--resume` on 2 ranks: it says it resumed (`from` is in its output), ends at `steps`,
    /// and its final weights and moments equal `reference`'s bit for bit.
    func assertResumesBitIdentical(
        _ args: [String], checkpoints: String, from: String, steps: Int,
        reference: (state: CheckpointState, parameters: FloatBuffer, m: FloatBuffer, v: FloatBuffer),
        _ label: String
    ) throws {
        let resumed = try SiftProcess.run(args + ["--resume"], ranks: 2)
        XCTAssertEqual(resumed.status, 0, "\(label): \(resumed.stderr)")
        XCTAssertTrue(resumed.stdout.contains("resumed from") && resumed.stdout.contains(from), "\(label): \(resumed.stdout)")
        let y = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: checkpoints).last!.path)
        XCTAssertEqual(y.state.step, steps, label)
        assertBitIdentical(reference.parameters.array, y.parameters.array, "\(label): weights differ")
        assertBitIdentical(reference.m.array, y.m.array, "\(label): first moments differ")
        assertBitIdentical(reference.v.array, y.v.array, "\(label): second moments differ")
    }

    /// The final checkpoint of an uninterrupted 2-rank run of `steps` steps: what a resumed run must equal.
    func uninterrupted(_ p: TrainingFixture.Paths, steps: Int, tag: String) throws -> (
        state: CheckpointState, parameters: FloatBuffer, m: FloatBuffer, v: FloatBuffer
    ) {
        let straight = temporaryDirectory(tag)
        let a = try SiftProcess.run(TrainingFixture.trainArguments(p, policy: "sift", steps: steps, checkpointDir: straight), ranks: 2)
        XCTAssertEqual(a.status, 0, a.stderr)
        return try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: straight).last!.path)
    }

    struct Job {
        var process: Process
        var outPath: String
        var errPath: String
        func output() -> (stdout: String, stderr: String) {
            ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "", (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
        }
    }

    /// Starts `sift ARGS` under mpirun on `ranks` ranks, or `executable ARGS` (a launcher that finds
    /// sift through $SIFT_BINARY), with `input` as its standard input.
    func start(_ args: [String], ranks: Int, executable: String? = nil, input: Pipe? = nil) throws -> Job {
        let p = Process()
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["SIFT_BINARY"] = SiftProcess.binary
        p.environment = env
        if let executable {
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = args
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
            p.arguments =
                ["-np", "\(ranks)", "--oversubscribe", "--bind-to", "none", "-x", "OPENBLAS_NUM_THREADS", SiftProcess.binary] + args
        }
        let outPath = temporaryDirectory("pre-out") + "/out", errPath = outPath + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        if let input { p.standardInput = input } else { p.standardInput = FileHandle.nullDevice }
        try p.run()
        addTeardownBlock { if p.isRunning { p.terminate() } }
        return Job(process: p, outPath: outPath, errPath: errPath)
    }

    func linesIn(_ path: String) -> Int {
        guard let d = FileManager.default.contents(atPath: path) else { return 0 }
        return d.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}
