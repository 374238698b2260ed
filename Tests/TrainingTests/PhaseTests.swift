import Foundation
import Model
import SiftTestSupport
import Training
import XCTest

/// Sequence-length phases (`--phase-from`): phase 2 continues phase 1 on a dataset prepared at a longer
/// length, keeping the weights, the optimizer's moments and the step count, with its own schedule; phase
/// 1's folder is only read; any other difference is refused as for a resume.
final class PhaseTests: XCTestCase {
    /// The fixture corpus prepared a second time at 64 tokens (the fixture's dataset has 32), once per process.
    nonisolated(unsafe) static var longer: String?

    func longerDataset(_ p: TrainingFixture.Paths) throws -> String {
        if let d = Self.longer { return d }
        let out = p.root + "/dataset-64"
        try? FileManager.default.removeItem(atPath: out)
        let prep = try SiftProcess.run([
            "prepare", "--corpus", p.root + "/corpus", "--vocab", p.vocab, "--seq-len", "64", "--out", out,
            "--validation-fraction", "0.05"
        ])
        XCTAssertEqual(prep.status, 0, prep.stderr)
        Self.longer = out
        return out
    }

    /// Every file of `dir` by name with its bytes.
    func snapshot(_ dir: String) -> [String: Data] {
        var files: [String: Data] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            files[name] = FileManager.default.contents(atPath: (dir as NSString).appendingPathComponent(name))
        }
        return files
    }

    /// Phase 1 (4 steps at 32 tokens) into a fresh folder; returns the folder.
    func phaseOne(_ p: TrainingFixture.Paths, extra: [String] = []) throws -> String {
        let dir = temporaryDirectory("phase1")
        let run = try SiftProcess.run(
            TrainingFixture.trainArguments(p, policy: "sift", steps: 4, checkpointDir: dir, extra: extra), ranks: 2, timeout: 180)
        XCTAssertEqual(run.status, 0, run.stderr)
        return dir
    }

    /// Phase 2's arguments: the longer data, its own schedule (3 steps, warm-up 2 at 1e-3), from `from` into `into`.
    func phaseTwoArguments(_ p: TrainingFixture.Paths, from: String, into: String, extra: [String] = []) throws -> [String] {
        var args = TrainingFixture.trainArguments(
            p, policy: "sift", steps: 3, checkpointDir: into,
            extra: ["--phase-from", from, "--metrics", into + "/metrics.jsonl"] + extra)
        args[args.firstIndex(of: "--data")! + 1] = try longerDataset(p)
        args[args.firstIndex(of: "--lr")! + 1] = "1e-3"
        return args
    }

    func testPhaseTwoStartsExactlyWherePhaseOneEndedWithItsOwnSchedule() throws {
        let p = try TrainingFixture.paths()
        let one = try phaseOne(p)
        let before = snapshot(one)
        let two = temporaryDirectory("phase2")
        let run = try SiftProcess.run(try phaseTwoArguments(p, from: one, into: two), ranks: 2, timeout: 180)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("resuming at sequence length 64 from a checkpoint trained at 32"), run.stdout)

        // The phase's start, written into its own folder, is phase 1's end bit for bit.
        let end = try TrainingCheckpoint.load(path: try XCTUnwrap(TrainingCheckpoint.list(directory: one).last?.path))
        let start = try TrainingCheckpoint.load(path: two + "/" + TrainingCheckpoint.fileName(step: 4))
        XCTAssertEqual(end.state.step, 4)
        XCTAssertEqual(start.state.step, 4)
        assertBitIdentical(end.parameters.array, start.parameters.array, "weights")
        assertBitIdentical(end.m.array, start.m.array, "first moments")
        assertBitIdentical(end.v.array, start.v.array, "second moments")
        XCTAssertEqual(end.state.seqLen, 32)
        XCTAssertEqual(start.state.seqLen, 64)
        XCTAssertEqual(start.state.phaseStart, 4)
        XCTAssertEqual(start.state.samplesBackpropagated, end.state.samplesBackpropagated)

        // The step count continues (5, 6, 7) under phase 2's schedule, counted from its first step:
        // warm-up 1e-3 × 1/2, then the peak, then the decay to 0 at its third step.
        let lines = try String(contentsOfFile: two + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let steps = try lines.compactMap { line -> (Int, Double)? in
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let step = o["step"] as? Int, let lr = o["lr"] as? Double else { return nil }
            return (step, lr)
        }
        XCTAssertEqual(steps.map(\.0), [5, 6, 7])
        for (got, want) in zip(steps.map(\.1), [5e-4, 1e-3, 0]) { XCTAssertEqual(got, want, accuracy: 1e-9) }
        XCTAssertEqual(TrainingCheckpoint.list(directory: two).last?.step, 7)
        XCTAssertEqual(snapshot(one), before, "phase 1's folder must stay as it was")
    }

    func testAStoppedPhaseResumesBitIdentically() throws {
        let p = try TrainingFixture.paths()
        let one = try phaseOne(p)
        let whole = temporaryDirectory("phase2-whole"), split = temporaryDirectory("phase2-split")
        XCTAssertEqual(try SiftProcess.run(try phaseTwoArguments(p, from: one, into: whole), ranks: 2, timeout: 180).status, 0)
        let stop = try SiftProcess.run(
            try phaseTwoArguments(p, from: one, into: split, extra: ["--stop-after", "5"]), ranks: 2, timeout: 180)
        XCTAssertEqual(stop.status, 0, stop.stderr)
        // Continued like any run: the folder's newest checkpoint holds the phase's start.
        var args = try phaseTwoArguments(p, from: one, into: split, extra: ["--resume"])
        args.removeSubrange(args.firstIndex(of: "--phase-from")!...args.firstIndex(of: "--phase-from")! + 1)
        args[args.firstIndex(of: "--metrics")! + 1] = split + "/metrics-2.jsonl"
        let resume = try SiftProcess.run(args, ranks: 2, timeout: 180)
        XCTAssertEqual(resume.status, 0, resume.stderr)
        XCTAssertTrue(resume.stdout.contains("at step 5"), resume.stdout)
        let a = try TrainingCheckpoint.load(path: whole + "/" + TrainingCheckpoint.fileName(step: 7))
        let b = try TrainingCheckpoint.load(path: split + "/" + TrainingCheckpoint.fileName(step: 7))
        assertBitIdentical(a.parameters.array, b.parameters.array, "weights")
        assertBitIdentical(a.v.array, b.v.array, "second moments")
    }

    /// NVIDIA's phase 2 runs at half phase 1's global batch: a new phase may set its own `--batch-size`
    /// (the start still equals phase 1's end), and a resume of that phase must then keep the new size.
    func testANewPhaseMayChangeTheBatchSizeAndItsResumeKeepsIt() throws {
        let p = try TrainingFixture.paths()
        let one = try phaseOne(p)
        let two = temporaryDirectory("phase2-batch")
        var args = try phaseTwoArguments(p, from: one, into: two, extra: ["--stop-after", "5"])
        args[args.firstIndex(of: "--batch-size")! + 1] = "8"
        let run = try SiftProcess.run(args, ranks: 2, timeout: 180)
        XCTAssertEqual(run.status, 0, run.stderr)
        let end = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: one).last!.path)
        let start = try TrainingCheckpoint.load(path: TrainingCheckpoint.list(directory: two).first!.path)
        XCTAssertEqual(start.state.step, 4)
        assertBitIdentical(start.parameters.array, end.parameters.array, "weights")
        XCTAssertTrue(start.state.runFingerprint.contains(" b=8 "), start.state.runFingerprint)
        XCTAssertEqual(TrainingCheckpoint.list(directory: two).last?.step, 5)
        // Its candidates continue where phase 1's next step would have drawn them, then at its own pool size
        // (ρ 0.5, selecting from the first step: pools of 24 at b 12, 16 at b 8), not as if every step since
        // step 0 had drawn phase 2's pool (5 × 16 = 80 would draw phase 1's candidates again).
        let five = try TrainingCheckpoint.load(path: two + "/" + TrainingCheckpoint.fileName(step: 5))
        XCTAssertEqual(end.state.streamPosition, 4 * 24)
        XCTAssertEqual(start.state.streamPosition, 4 * 24)
        XCTAssertEqual(five.state.phaseStreamStart, 4 * 24)
        XCTAssertEqual(five.state.streamPosition, 4 * 24 + 16)
        // Resuming phase 2 at phase 1's batch size is a resume, which keeps the size.
        var resume = try phaseTwoArguments(p, from: one, into: two)
        let k = resume.firstIndex(of: "--phase-from")!
        resume.replaceSubrange(k...k + 1, with: ["--resume"])
        let out = try SiftProcess.run(resume, ranks: 2, timeout: 120)
        XCTAssertEqual(out.status, 2, out.stderr)
        XCTAssertTrue(out.stderr.contains("--batch-size: checkpoint 8, now 12"), out.stderr)
    }

    /// A run whose schedule was fitted to `--time-budget` records no `--steps`; a new phase, which needs its own
    /// `--steps`, may follow it (the budget belongs to the earlier phase's schedule), while a resume may not.
    func testAPhaseMayFollowARunFittedToATimeBudget() throws {
        var first = TrainingOptions()
        first.timeBudget = 3600
        first.fitsScheduleToBudget = true
        let config = try XCTUnwrap(BertConfig.named("tiny", vocabSize: 64))
        let state = CheckpointState(
            config: config, step: 40, seed: first.seed, samplesScored: 0, samplesBackpropagated: 1280,
            elapsedSeconds: 3600, runFingerprint: first.fingerprint, vocabHash: "v")
        var phase = first
        phase.timeBudget = nil
        phase.fitsScheduleToBudget = false
        phase.steps = 500
        XCTAssertNil(state.mismatch(options: phase, config: config, vocabHash: "v", seqLen: 32, newPhase: true))
        let resume = try XCTUnwrap(state.mismatch(options: phase, config: config, vocabHash: "v", seqLen: 32))
        XCTAssertTrue(resume.contains("--time-budget: checkpoint 3600"), resume)
    }

    /// `--stop-after` counts steps over every phase: one at or before the phase's first step is refused before
    /// the phase writes anything.
    func testAStopBeforeThePhaseStartsIsRefused() throws {
        let p = try TrainingFixture.paths()
        let one = try phaseOne(p)
        let two = temporaryDirectory("phase2-stop")
        let run = try SiftProcess.run(try phaseTwoArguments(p, from: one, into: two, extra: ["--stop-after", "4"]), ranks: 2, timeout: 180)
        XCTAssertEqual(run.status, 2, run.stderr)
        XCTAssertTrue(
            run.stderr.contains(
                "is at step 4, where the new phase starts, and --stop-after 4 is not after it (--stop-after counts steps "
                    + "over every phase)"),
            run.stderr)
        XCTAssertEqual(TrainingCheckpoint.list(directory: two).count, 0)
    }

    func testEveryOtherDifferenceIsRefusedAndNothingIsWritten() throws {
        let p = try TrainingFixture.paths()
        let one = try phaseOne(p)
        let before = snapshot(one)
        for (extra, expected) in [
            (["--weight-decay", "0.1"], "--weight-decay: checkpoint 0.01, now 0.1"),
            (["--policy", "vanilla"], "--policy: checkpoint sift, now vanilla"),
            (["--optimizer", "lamb"], "--optimizer: checkpoint adamw, now lamb"),
            (["--mask", "words"], "--mask: checkpoint tokens, now words")
        ] {
            let two = temporaryDirectory("phase2-bad")
            var args = try phaseTwoArguments(p, from: one, into: two)
            if let k = args.firstIndex(of: extra[0]) { args.removeSubrange(k...k + 1) }
            let out = try SiftProcess.run(args + extra, ranks: 2, timeout: 120)
            XCTAssertFalse(out.timedOut)
            XCTAssertEqual(out.status, 2, "\(extra): \(out.stderr)")
            XCTAssertTrue(out.stderr.contains(expected), "\(extra): \(out.stderr)")
            XCTAssertTrue(TrainingCheckpoint.list(directory: two).isEmpty, "\(extra): nothing written")
        }
        // A plain resume keeps the length: the longer data is refused without --phase-from.
        var resume = TrainingFixture.trainArguments(p, policy: "sift", steps: 4, checkpointDir: one, extra: ["--resume"])
        resume[resume.firstIndex(of: "--data")! + 1] = try longerDataset(p)
        let out = try SiftProcess.run(resume, ranks: 2, timeout: 120)
        XCTAssertEqual(out.status, 2, out.stderr)
        XCTAssertTrue(out.stderr.contains("was trained at sequence length 32, and this run's data has 64"), out.stderr)
        // The new phase must write elsewhere, and cannot be both a phase start and a resume.
        for (extra, expected) in [
            (["--checkpoint-dir", one], "name the same folder"), (["--resume"], "--phase-from starts a new phase"),
            (["--init-from", one], "--init-from loads others"),
            (["--steps", "", "--time-budget", "60"], "--phase-from needs --steps")
        ] {
            var args = try phaseTwoArguments(p, from: one, into: temporaryDirectory("phase2-flags"))
            if let k = args.firstIndex(of: extra[0]) { args.removeSubrange(k...k + 1) }
            let bad = try SiftProcess.run(args + extra.filter { $0 != "--steps" && !$0.isEmpty })
            XCTAssertEqual(bad.status, 64, "\(extra): \(bad.stderr)")
            XCTAssertTrue(bad.stderr.contains(expected), "\(extra): \(bad.stderr)")
        }
        // A log that already holds phase 1's lines: the advice is a log of the phase's own, not --resume.
        let logs = temporaryDirectory("phase2-log")
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: logs + "/phase1.jsonl"))
        var args = try phaseTwoArguments(p, from: one, into: logs + "/ck")
        args[args.lastIndex(of: "--metrics")! + 1] = logs + "/phase1.jsonl"
        let log = try SiftProcess.run(args, ranks: 2, timeout: 120)
        XCTAssertEqual(log.status, 2, log.stderr)
        XCTAssertTrue(
            log.stderr.contains(
                "--metrics \(logs)/phase1.jsonl already holds an earlier run's log (3 bytes); give this phase a log of its "
                    + "own (another --metrics path), or pass --start-over to replace it"), log.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: logs + "/phase1.jsonl"), Data("{}\n".utf8))
        // A folder that is missing or holds no valid checkpoint (a damaged one is named, not moved).
        let empty = temporaryDirectory("phase1-empty")
        let damaged = temporaryDirectory("phase1-damaged")
        let only = damaged + "/" + TrainingCheckpoint.fileName(step: 4)
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: only))
        for (from, expected) in [
            (empty + "/missing", "is not a directory"), (empty, "holds no checkpoint"), (damaged, "holds no valid checkpoint")
        ] {
            let two = temporaryDirectory("phase2-nothing")
            let out = try SiftProcess.run(try phaseTwoArguments(p, from: from, into: two), ranks: 2, timeout: 120)
            XCTAssertFalse(out.timedOut)
            XCTAssertEqual(out.status, 2, "\(from): \(out.stderr)")
            XCTAssertTrue(out.stderr.contains("--phase-from \(from) \(expected)"), "\(from): \(out.stderr)")
            XCTAssertTrue(TrainingCheckpoint.list(directory: two).isEmpty, "\(from): nothing written")
        }
        XCTAssertEqual(FileManager.default.contents(atPath: only), Data(repeating: 7, count: 4096), "the damaged file stays")
        XCTAssertEqual(snapshot(one), before, "phase 1's folder must stay as it was")
    }
}
