import Foundation
import SiftTestSupport
import Training
import XCTest

/// Issue 36's findings about work lost on disk, through the real CLI: `--overwrite` and
/// `--overwrite-export` replace only what sift exported, `--resume` never starts over in silence,
/// and damaged checkpoints are moved aside, never overwritten. docs/RELIABILITY.md lists these cases.
final class NothingLostTests: XCTestCase {
    /// Every file under `dir` with its bytes.
    func snapshot(_ dir: String) -> [String: Data] {
        var files: [String: Data] = [:]
        for name in (try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? [] {
            if let d = FileManager.default.contents(atPath: dir + "/" + name) { files[name] = d }
        }
        return files
    }

    func checkpoints(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".ckpt") }.sorted()
    }

    /// Runs sift and checks a clean refusal: exit `status`, one `error:` line mentioning every needle, no trap.
    @discardableResult
    func expectRefusal(
        _ args: [String], ranks: Int? = nil, status: Int32 = 2, mentions needles: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let out = try SiftProcess.run(args, ranks: ranks, timeout: 120)
        XCTAssertFalse(out.timedOut, "\(args) hung", file: file, line: line)
        XCTAssertEqual(out.status, status, "\(args): \(out.stderr)", file: file, line: line)
        let errors = out.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") || $0.contains("error: rank") }
        XCTAssertFalse(errors.isEmpty, "no error line: \(out.stderr)", file: file, line: line)
        for needle in needles {
            XCTAssertTrue(out.stderr.contains(needle), "should mention '\(needle)': \(out.stderr)", file: file, line: line)
        }
        XCTAssertFalse(out.stderr.contains("Fatal error"), "\(args) trapped", file: file, line: line)
        return out.stderr
    }

    /// A checkpoint directory of a 2-step run on the fixture (a checkpoint after every step).
    func trainedCheckpoints(_ p: TrainingFixture.Paths, into dir: String, steps: Int = 2, extra: [String] = []) throws {
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: steps, checkpointDir: dir,
                extra: ["--checkpoint-every", "1", "--keep-checkpoints", "5"] + extra))
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(checkpoints(dir).count, steps)
    }

    // MARK: - Overwrite only what sift wrote

    /// `sift export --model ck --hf ck --overwrite` used to delete every `step-*.ckpt` in ck.
    func testExportOverwriteRefusesACheckpointDirectoryAndKeepsEveryCheckpoint() throws {
        let p = try TrainingFixture.paths()
        let ck = temporaryDirectory("nl-ck")
        try trainedCheckpoints(p, into: ck)
        let before = snapshot(ck)
        try expectRefusal(["export", "--model", ck, "--hf", ck, "--overwrite"], mentions: [ck, "step-*.ckpt", "not replaced"])
        XCTAssertEqual(snapshot(ck), before)
    }

    /// `sift train … --checkpoint-dir X --export X --overwrite-export` used to train, then replace X with the
    /// export: no checkpoint was left. Now refused at validation, before any step (no metrics line written).
    func testTrainRefusesExportIntoItsCheckpointDirBeforeTraining() throws {
        let p = try TrainingFixture.paths()
        let ck = temporaryDirectory("nl-ck")
        try trainedCheckpoints(p, into: ck)
        let before = snapshot(ck)
        let metrics = temporaryDirectory("nl-metrics") + "/m.jsonl"
        for export in [ck, ck + "/model", ck + "/../" + (ck as NSString).lastPathComponent] {
            try expectRefusal(
                TrainingFixture.trainArguments(
                    p, policy: "vanilla", steps: 3, checkpointDir: ck,
                    extra: ["--resume", "--export", export, "--overwrite-export", "--metrics", metrics]),
                status: 64, mentions: ["--export", "--checkpoint-dir"])
            XCTAssertFalse(FileManager.default.fileExists(atPath: metrics), "a step ran")
            XCTAssertEqual(snapshot(ck), before)
        }
    }

    /// An unrelated non-empty folder, a dataset and a file are refused by export, import and train, untouched.
    func testOverwriteRefusesAnUnrelatedFolderADatasetAndAnOldExport() throws {
        let p = try TrainingFixture.paths()
        let d = temporaryDirectory("nl-unrelated")
        let ck = d + "/ck"
        try trainedCheckpoints(p, into: ck)
        let precious = d + "/precious"
        try FileManager.default.createDirectory(atPath: precious + "/sub", withIntermediateDirectories: true)
        try "keep me".write(toFile: precious + "/notes.txt", atomically: true, encoding: .utf8)
        try "and me".write(toFile: precious + "/sub/more.txt", atomically: true, encoding: .utf8)
        let dataset = d + "/dataset"
        try FileManager.default.copyItem(atPath: p.dataset, toPath: dataset)
        // An export written before the marker existed: a model directory without .sift-export.
        let old = d + "/old-export"
        let made = try SiftProcess.run(["export", "--model", ck, "--hf", old])
        XCTAssertEqual(made.status, 0, made.stderr)
        try? FileManager.default.removeItem(atPath: old + "/.sift-export")
        let file = d + "/file.txt"
        try "a file".write(toFile: file, atomically: true, encoding: .utf8)

        let cases: [(String, String)] = [
            (precious, "no .sift-export marker"), (dataset, "is a sift dataset"),
            (old, "delete it by hand"), (file, "is a file")
        ]
        for (target, why) in cases {
            let before = snapshot(target), bytes = FileManager.default.contents(atPath: target)
            try expectRefusal(["export", "--model", ck, "--hf", target, "--overwrite"], mentions: [target, why])
            try expectRefusal(["import", "--hf", old, "--out", target, "--overwrite"], mentions: [target, why])
            try expectRefusal(
                TrainingFixture.trainArguments(
                    p, policy: "vanilla", steps: 1, checkpointDir: d + "/ck2",
                    extra: ["--export", target, "--overwrite-export"]),
                mentions: [target, why])
            XCTAssertEqual(snapshot(target), before, target)
            XCTAssertEqual(FileManager.default.contents(atPath: target), bytes, target)
            XCTAssertTrue(checkpoints(d + "/ck2").isEmpty, "train ran before refusing \(target)")
        }
    }

    /// Re-exporting over sift's own export (marker present) works, from `export` and from `train`.
    func testReExportOverSiftsOwnExportWorks() throws {
        let p = try TrainingFixture.paths()
        let d = temporaryDirectory("nl-reexport")
        let ck = d + "/ck"
        try trainedCheckpoints(p, into: ck)
        let hf = d + "/hf"
        let first = try SiftProcess.run(["export", "--model", ck, "--hf", hf])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: hf + "/.sift-export"))
        let again = try SiftProcess.run(["export", "--model", ck + "/step-00000001.ckpt", "--hf", hf, "--overwrite"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let trained = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 1, checkpointDir: d + "/ck3",
                extra: ["--export", hf, "--overwrite-export"]))
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains("exported HuggingFace model to \(hf)"), trained.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: hf + "/model.safetensors"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: hf + "/.sift-export"))
        // An empty directory holds nothing to lose: it may be replaced too.
        try FileManager.default.createDirectory(atPath: d + "/empty", withIntermediateDirectories: true)
        let empty = try SiftProcess.run(["export", "--model", ck, "--hf", d + "/empty", "--overwrite"])
        XCTAssertEqual(empty.status, 0, empty.stderr)
    }

    // MARK: - Resume never starts over in silence

    /// A misspelled `--checkpoint-dir` with `--resume` used to start quietly from step 0.
    func testResumeWithAMissingOrEmptyCheckpointDirIsAnError() throws {
        let p = try TrainingFixture.paths()
        let d = temporaryDirectory("nl-missing")
        let metrics = d + "/m.jsonl"
        for ranks in [nil, 2] as [Int?] {
            try expectRefusal(
                TrainingFixture.trainArguments(
                    p, policy: "vanilla", steps: 2, checkpointDir: d + "/chekpoints",
                    extra: ["--resume", "--metrics", metrics]),
                ranks: ranks, mentions: [d + "/chekpoints", "does not exist", "--resume-or-start"])
            XCTAssertFalse(FileManager.default.fileExists(atPath: d + "/chekpoints"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: metrics), "a step ran")
        }
        try FileManager.default.createDirectory(atPath: d + "/empty", withIntermediateDirectories: true)
        try expectRefusal(
            TrainingFixture.trainArguments(p, policy: "vanilla", steps: 2, checkpointDir: d + "/empty", extra: ["--resume"]),
            mentions: [d + "/empty", "holds no checkpoint"])
        // --resume-or-start: the first launch of a restarting job starts from step 0, missing or empty.
        for dir in [d + "/empty", d + "/new"] {
            let out = try SiftProcess.run(
                TrainingFixture.trainArguments(
                    p, policy: "vanilla", steps: 2, checkpointDir: dir,
                    extra: ["--resume-or-start"]))
            XCTAssertEqual(out.status, 0, out.stderr)
            XCTAssertTrue(out.stdout.contains("starting from step 0"), out.stdout)
            XCTAssertEqual(checkpoints(dir), ["step-00000002.ckpt"])
        }
    }

    /// Every checkpoint damaged: `--resume` used to warn, start from step 0, exit 0 and overwrite them.
    /// Now it names each file and its damage and changes nothing; `--resume-or-start` moves them aside.
    func testEveryCheckpointDamagedIsNamedAndNeverOverwritten() throws {
        let p = try TrainingFixture.paths()
        let ck = temporaryDirectory("nl-damaged")
        try trainedCheckpoints(p, into: ck)
        let one = ck + "/step-00000001.ckpt", two = ck + "/step-00000002.ckpt"
        var bytes = [UInt8](FileManager.default.contents(atPath: two)!)
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: two))
        let cut = FileManager.default.contents(atPath: one)!.prefix(1000)
        try cut.write(to: URL(fileURLWithPath: one))
        let before = snapshot(ck)
        for ranks in [nil, 2] as [Int?] {
            try expectRefusal(
                TrainingFixture.trainArguments(p, policy: "vanilla", steps: 2, checkpointDir: ck, extra: ["--resume"]),
                ranks: ranks, mentions: ["\(two) is corrupt: checksum mismatch", "\(one) is truncated", "nothing was changed"])
            XCTAssertEqual(snapshot(ck), before)
        }
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 2, checkpointDir: ck,
                extra: ["--resume-or-start", "--checkpoint-every", "1"]))
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("moved to \(two).damaged") && out.stderr.contains("moved to \(one).damaged"), out.stderr)
        XCTAssertTrue(out.stdout.contains("starting from step 0"), out.stdout)
        XCTAssertEqual(FileManager.default.contents(atPath: two + ".damaged"), before["step-00000002.ckpt"])
        XCTAssertEqual(FileManager.default.contents(atPath: one + ".damaged"), before["step-00000001.ckpt"])
        XCTAssertEqual(checkpoints(ck), ["step-00000001.ckpt", "step-00000002.ckpt"])
        XCTAssertNoThrow(try TrainingCheckpoint.load(path: two))
    }

    /// A run from step 0 into the folder of an earlier run used to overwrite its metrics and let the new
    /// run's rotation delete the new checkpoints (the earlier run's steps are higher), so a later
    /// `--resume` continued the old run. Now the leftovers are an error naming them, on 1 and 2 ranks,
    /// and nothing changes; `--start-over` deletes the old checkpoints and replaces the log.
    func testARunFromStepZeroRefusesAnEarlierRunsFilesUnlessToldToStartOver() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("nl-again")
        let ck = dir + "/ck", metrics = dir + "/metrics.jsonl"
        try trainedCheckpoints(p, into: ck, steps: 3, extra: ["--metrics", metrics])
        let before = snapshot(dir)
        let again = TrainingFixture.trainArguments(
            p, policy: "vanilla", steps: 2, checkpointDir: ck,
            extra: ["--checkpoint-every", "1", "--keep-checkpoints", "2", "--metrics", metrics])
        for ranks in [nil, 2] as [Int?] {
            try expectRefusal(
                again, ranks: ranks,
                mentions: [
                    "--checkpoint-dir \(ck) holds 3 checkpoint(s) of an earlier run, the newest at step 3",
                    "--resume", "--start-over"
                ])
            XCTAssertEqual(snapshot(dir), before)
        }
        let other = dir + "/ck-new"
        try expectRefusal(
            TrainingFixture.trainArguments(p, policy: "vanilla", steps: 2, checkpointDir: other, extra: ["--metrics", metrics]),
            mentions: ["--metrics \(metrics) already holds an earlier run's log", "--start-over"])
        XCTAssertEqual(snapshot(dir), before)
        try expectRefusal(again + ["--start-over", "--resume"], status: 64, mentions: ["--start-over and --resume exclude each other"])

        // Checkpoints set aside as damaged (`setAside` names them NAME.damaged, then NAME.damaged-2, …) go
        // too; a file of the user's that only looks alike stays.
        let aside = ["step-00000003.ckpt.damaged", "step-00000003.ckpt.damaged-2", "step-00000003.ckpt.damaged-13"]
        let kept = ["step-00000003.ckpt.damaged-notes", "notes.txt"]
        for name in aside + kept { try Data("x".utf8).write(to: URL(fileURLWithPath: ck + "/" + name)) }
        XCTAssertEqual(TrainingCheckpoint.damagedFiles(directory: ck), aside.sorted().map { ck + "/" + $0 })
        let out = try SiftProcess.run(again + ["--start-over"], ranks: 2)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(checkpoints(ck), ["step-00000001.ckpt", "step-00000002.ckpt"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: ck).filter { !$0.hasSuffix(".ckpt") }.sorted(), kept.sorted())
        XCTAssertEqual(try TrainingCheckpoint.load(path: ck + "/step-00000002.ckpt").state.step, 2)
        let steps = (try String(contentsOfFile: metrics, encoding: .utf8)).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.compactMap { $0["step"] as? Int }
        XCTAssertEqual(steps.max(), 2, "the earlier run's metrics rows remain")
    }

    /// `--tensorboard` is treated like `--metrics`: a run from step 0 into a directory holding an earlier run's
    /// event files is refused (nothing changed) unless `--resume` (which adds a file beside them) or
    /// `--start-over` (which deletes the event files only); a file given as the directory is refused at setup.
    func testTensorBoardDirectoryOfAnEarlierRunNeedsResumeOrStartOver() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("nl-tensorboard")
        let ck = dir + "/ck", tb = dir + "/tb"
        func events() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: tb)) ?? []).filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
        }
        // Three steps planned, stopped after two (checkpointed), so that a resumed run may finish them.
        let first = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 3, checkpointDir: ck,
                extra: ["--stop-after", "2", "--tensorboard", tb]))
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(events().count, 1)
        try "kept".write(toFile: tb + "/notes.txt", atomically: true, encoding: .utf8)
        let before = snapshot(dir)
        try expectRefusal(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 2, checkpointDir: dir + "/ck-new",
                extra: ["--tensorboard", tb]),
            ranks: 2, mentions: ["--tensorboard \(tb) holds 1 event file(s) of an earlier run", "--resume", "--start-over"])
        XCTAssertEqual(snapshot(dir), before)
        try expectRefusal(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 2, checkpointDir: dir + "/ck-new",
                extra: ["--tensorboard", tb + "/notes.txt"]),
            mentions: ["--tensorboard \(tb)/notes.txt is a file, not a directory"])
        XCTAssertEqual(snapshot(dir), before)

        let resumed = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 3, checkpointDir: ck,
                extra: ["--tensorboard", tb, "--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(events().count, 2, "a resumed run adds a file")
        let fresh = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 2, checkpointDir: ck,
                extra: ["--tensorboard", tb, "--start-over"]))
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        XCTAssertEqual(events().count, 1, "--start-over deletes the earlier event files")
        XCTAssertEqual(try String(contentsOfFile: tb + "/notes.txt", encoding: .utf8), "kept", "other files are left alone")
    }

    /// `--mask words` changes the training data, so a checkpoint written with token masking does not resume
    /// under it (the field named with both values), and it needs a dataset to mask.
    func testMaskModeMustMatchOnResumeAndNeedsADataset() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("nl-mask")
        let ck = dir + "/ck"
        let first = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 3, checkpointDir: ck,
                extra: ["--stop-after", "2"]))
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = snapshot(dir)
        try expectRefusal(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 3, checkpointDir: ck,
                extra: ["--resume", "--mask", "words"]),
            mentions: ["--mask: checkpoint tokens, now words"])
        XCTAssertEqual(snapshot(dir), before)
        try expectRefusal(
            ["train", "--train-jsonl", dir + "/none.jsonl", "--vocab", p.vocab, "--mask", "words"], status: 64,
            mentions: ["--mask words needs --data"])
        let words = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 3, checkpointDir: dir + "/ck-words",
                extra: ["--mask", "words", "--stop-after", "2"]))
        XCTAssertEqual(words.status, 0, words.stderr)
        let resumed = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 3, checkpointDir: dir + "/ck-words",
                extra: ["--mask", "words", "--resume"]))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
    }

    /// The newest checkpoint damaged: the run resumes from the one before, and the damaged file is moved
    /// aside, so the save of the same step does not overwrite it.
    func testDamagedNewestCheckpointIsMovedAsideAndResumeUsesThePreviousOne() throws {
        let p = try TrainingFixture.paths()
        let ck = temporaryDirectory("nl-newest")
        try trainedCheckpoints(p, into: ck, steps: 3)
        let three = ck + "/step-00000003.ckpt"
        var bytes = [UInt8](FileManager.default.contents(atPath: three)!)
        bytes[40] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: three))
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 3, checkpointDir: ck,
                extra: ["--resume", "--checkpoint-every", "1", "--keep-checkpoints", "5"]))
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("resumed from \(ck)/step-00000002.ckpt at step 2"), out.stdout)
        XCTAssertTrue(out.stderr.contains("warning: damaged checkpoint: ") && out.stderr.contains("moved to \(three).damaged"), out.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: three + ".damaged"), Data(bytes))
        XCTAssertNoThrow(try TrainingCheckpoint.load(path: three))
    }

    /// Resuming with another `--steps` printed both long settings strings; now it names the field.
    func testSettingsMismatchNamesTheFieldThatDiffers() throws {
        let p = try TrainingFixture.paths()
        let ck = temporaryDirectory("nl-settings")
        try trainedCheckpoints(p, into: ck)
        let before = snapshot(ck)
        let err = try expectRefusal(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 4, checkpointDir: ck,
                extra: ["--resume", "--seed", "7"]),
            mentions: ["--steps: checkpoint 2, now 4", "--seed: checkpoint 99, now 7"])
        XCTAssertFalse(err.contains("policy=vanilla"), "the settings strings are printed whole: \(err)")
        XCTAssertEqual(snapshot(ck), before)
    }

    /// A LAMB checkpoint resumed with AdamW, or an AdamW one with LAMB, is refused with one line naming
    /// both optimizers (their moments mean different things to the next step); nothing on disk changes.
    func testResumeWithTheOtherOptimizerNamesBothAndKeepsTheCheckpoints() throws {
        let p = try TrainingFixture.paths()
        for (written, resumed) in [("lamb", "adamw"), ("adamw", "lamb")] {
            let ck = temporaryDirectory("nl-optimizer-\(written)")
            try trainedCheckpoints(p, into: ck, extra: ["--optimizer", written])
            let before = snapshot(ck)
            let err = try expectRefusal(
                TrainingFixture.trainArguments(
                    p, policy: "vanilla", steps: 2, checkpointDir: ck,
                    extra: ["--resume", "--optimizer", resumed]),
                mentions: ["--optimizer: checkpoint \(written), now \(resumed)"])
            XCTAssertEqual(err.split(separator: "\n").filter { $0.hasPrefix("error: ") }.count, 1, err)
            XCTAssertEqual(snapshot(ck), before, "\(written) checkpoint resumed with \(resumed)")
        }
    }
}
