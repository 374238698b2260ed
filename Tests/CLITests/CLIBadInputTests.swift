import Core
import Foundation
import SiftTestSupport
import XCTest

/// Bad input through the real CLI: one `error:` line, a non-zero exit, no trap, no hang, and
/// nothing already on disk damaged. docs/RELIABILITY.md lists these cases.
final class CLIBadInputTests: XCTestCase {
    func tempDir(_ tag: String) -> String { temporaryDirectory("bad-" + tag) }

    /// Runs sift and checks the failure is clean; returns stderr.
    @discardableResult
    func expectFailure(
        _ args: [String], ranks: Int? = nil, mentions needle: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let out = try SiftProcess.run(args, ranks: ranks, timeout: 90)
        XCTAssertFalse(out.timedOut, "\(args) hung", file: file, line: line)
        XCTAssertNotEqual(out.status, 0, "\(args) succeeded", file: file, line: line)
        XCTAssertTrue(out.stderr.contains("error: "), "\(args): \(out.stderr)", file: file, line: line)
        XCTAssertTrue(out.stderr.contains(needle), "\(args) should mention '\(needle)': \(out.stderr)", file: file, line: line)
        XCTAssertFalse(out.stderr.contains("Fatal error"), "\(args) trapped", file: file, line: line)
        XCTAssertTrue(out.stderr.hasSuffix("\n"), "\(args): error line without its newline: \(out.stderr)", file: file, line: line)
        return out.stderr
    }

    func snapshot(_ dir: String) -> [String: Data] {
        var files: [String: Data] = [:]
        for name in (try? FileManager.default.subpathsOfDirectory(atPath: dir)) ?? [] {
            if let d = FileManager.default.contents(atPath: dir + "/" + name) { files[name] = d }
        }
        return files
    }

    func copyDataset(_ p: TrainingFixture.Paths) throws -> String {
        let d = tempDir("ds") + "/dataset"
        try FileManager.default.copyItem(atPath: p.dataset, toPath: d)
        return d
    }

    func testCorpusProblems() throws {
        let p = try TrainingFixture.paths()
        let empty = tempDir("empty")
        try expectFailure(
            ["prepare", "--corpus", empty, "--vocab", p.vocab, "--out", empty + "/out"], mentions: "corpus \(empty) contains no usable text"
        )
        let binary = tempDir("binary")
        try Data([0x7F, 0x45, 0x4C, 0x46, 0, 0, 1, 2, 0, 255]).write(to: URL(fileURLWithPath: binary + "/a.bin"))
        // The documented wording, with paths that do not contain it.
        try expectFailure(
            ["prepare", "--corpus", binary, "--vocab", p.vocab, "--out", binary + "/out"], mentions: "contains no usable text")
        try expectFailure(
            ["prepare", "--corpus", binary + "/absent", "--vocab", p.vocab, "--out", binary + "/o2"],
            mentions: binary + "/absent: no such file or directory")
        // An existing directory that is not a dataset is refused and left as it was.
        let precious = tempDir("precious")
        try "keep me".write(toFile: precious + "/notes.txt", atomically: true, encoding: .utf8)
        let before = snapshot(precious)
        try expectFailure(["prepare", "--corpus", p.root + "/corpus", "--vocab", p.vocab, "--out", precious], mentions: precious)
        XCTAssertEqual(snapshot(precious), before)
    }

    /// Every command exits with the status of the one table (docs/RELIABILITY.md): bad input or data 2,
    /// bad flags 64; `launch/mpirun.sh --max-restarts 2` does not restart a job that ended with 2, and its
    /// list of statuses never restarted is the table's. Seen failing before the table: prepare, vocab and
    /// export exited 1 on bad input, which the launcher restarted.
    func testExitStatusesFollowTheTable() throws {
        let p = try TrainingFixture.paths()
        let d = tempDir("status")
        try "not a model".write(toFile: d + "/text", atomically: true, encoding: .utf8)
        for (args, status) in [
            (["prepare", "--corpus", d + "/absent", "--vocab", p.vocab, "--out", d + "/o"], 2),
            (["vocab", "--corpus", d + "/absent", "--size", "100", "--out", d + "/v.txt"], 2),
            (["export", "--model", d + "/text", "--hf", d + "/hf"], 2),
            (["import", "--hf", d + "/absent", "--out", d + "/m"], 2),
            (["train", "--no-such-flag"], 64)
        ] {
            let out = try SiftProcess.run(args, timeout: 90)
            XCTAssertEqual(out.status, Int32(status), "\(args): \(out.stderr)")
            XCTAssertEqual(out.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }.count, 1, "\(args): \(out.stderr)")
        }
        let launcher = SiftProcess.repository.appendingPathComponent("launch/mpirun.sh").path
        let bad = try SiftProcess.run(
            ["-np", "2", "--max-restarts", "2", "--"]
                + TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: d + "/ck")
                .map { $0 == p.dataset ? d + "/absent" : $0 }, timeout: 120, launcher: launcher)
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertFalse(bad.stderr.contains("restart "), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("launch: exit code 2 is not restarted"), bad.stderr)
        // The launcher's list is the table's: the statuses ExitStatus says are not restartable, and the crashes.
        let script = try String(contentsOfFile: launcher, encoding: .utf8)
        let line = try XCTUnwrap(script.split(separator: "\n").first { $0.hasPrefix("final_statuses=") })
        let listed = Set(line.split(separator: "\"")[1].split(separator: " ").compactMap { Int32($0) })
        let table = Set(ExitStatus.allCases.filter { !$0.restartable && $0 != .done }.map(\.rawValue) + ExitStatus.deterministicCrashes)
        XCTAssertEqual(listed, table)
        // And docs/RELIABILITY.md has a row for every status of the table.
        let doc = try String(contentsOfFile: SiftProcess.repository.appendingPathComponent("docs/RELIABILITY.md").path, encoding: .utf8)
        for s in ExitStatus.allCases {
            XCTAssertTrue(doc.contains("| \(s.rawValue) | \(s.meaning) |"), "RELIABILITY.md lacks status \(s.rawValue)")
        }
    }

    func testVocabularyProblems() throws {
        let p = try TrainingFixture.paths()
        let d = tempDir("vocab")
        try expectFailure(
            ["prepare", "--corpus", p.root + "/corpus", "--vocab", d + "/none.txt", "--out", d + "/o"],
            mentions: d + "/none.txt: no such file or directory")
        let text = try String(contentsOfFile: p.vocab, encoding: .utf8)
        try text.replacingOccurrences(of: "[MASK]\n", with: "").write(toFile: d + "/nomask.txt", atomically: true, encoding: .utf8)
        try expectFailure(["prepare", "--corpus", p.root + "/corpus", "--vocab", d + "/nomask.txt", "--out", d + "/o"], mentions: "[MASK]")
        try (text + "[CLS]\n").write(toFile: d + "/again.txt", atomically: true, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let first = lines.firstIndex(of: "[CLS]")! + 1, appended = lines.count - (text.hasSuffix("\n") ? 1 : 0) + 1
        try expectFailure(
            ["prepare", "--corpus", p.root + "/corpus", "--vocab", d + "/again.txt", "--out", d + "/o"],
            mentions: "again.txt:\(appended): duplicate vocabulary entry \"[CLS]\" (first seen on line \(first))")
        try expectFailure(["tokenize", "--vocab", d + "/none.txt"], mentions: d + "/none.txt: no such file or directory")
    }

    /// A dataset problem every rank finds itself: each of the 2 ranks reports it (`error: rank R: …`
    /// naming `needle`), and no step runs (no progress line, no metrics written, no checkpoint although
    /// one is due after every step).
    func expectEveryRankRefuses(_ args: [String], mentions needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let metrics = tempDir("metrics") + "/m.jsonl"
        let err = try expectFailure(
            args + ["--checkpoint-every", "1", "--metrics", metrics], ranks: 2, mentions: needle, file: file, line: line)
        for rank in 0..<2 {
            XCTAssertTrue(
                err.split(separator: "\n").contains { $0.hasPrefix("error: rank \(rank): ") && $0.contains(needle) },
                "rank \(rank) did not report '\(needle)': \(err)", file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: metrics), "a step ran", file: file, line: line)
    }

    func testShardProblemsStopTrainingBeforeAnyStep() throws {
        let p = try TrainingFixture.paths()
        let ckpt = tempDir("ck")
        // Truncated shard.
        let truncated = try copyDataset(p)
        let shard = truncated + "/train-00000.bin"
        let bytes = FileManager.default.contents(atPath: shard)!
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: shard))
        var args = TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: ckpt)
        args[args.firstIndex(of: "--data")! + 1] = truncated
        try expectEveryRankRefuses(args, mentions: "train-00000.bin")
        // One flipped byte: checksum mismatch.
        let flipped = try copyDataset(p)
        var b = [UInt8](FileManager.default.contents(atPath: flipped + "/train-00000.bin")!)
        b[b.count / 2] ^= 1
        try Data(b).write(to: URL(fileURLWithPath: flipped + "/train-00000.bin"))
        args[args.firstIndex(of: "--data")! + 1] = flipped
        try expectEveryRankRefuses(args, mentions: "checksum")
        // A vocabulary other than the one the shards were made with.
        let other = tempDir("othervocab") + "/vocab.txt"
        try (String(contentsOfFile: p.vocab, encoding: .utf8) + "zzzextra\n").write(toFile: other, atomically: true, encoding: .utf8)
        var mismatch = TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: ckpt)
        mismatch[mismatch.firstIndex(of: "--vocab")! + 1] = other
        try expectEveryRankRefuses(mismatch, mentions: "different vocabulary")
        XCTAssertTrue(FileManager.default.fileExists(atPath: p.dataset + "/manifest.json"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: ckpt).filter { $0.hasSuffix(".ckpt") }, [])
    }

    func testFlagRanges() throws {
        let p = try TrainingFixture.paths()
        let dir = tempDir("flags")
        let cases: [(String, String, String)] = [
            ("--micro-batch", "0", "micro-batch"), ("--warmup", "-1", "warmup"), ("--steps", "0", "steps"),
            ("--dropout", "1", "dropout"), ("--time-budget", "0", "time-budget"), ("--target-accuracy", "1.5", "target-accuracy"),
            ("--keep-checkpoints", "0", "keep-checkpoints"), ("--seq-len", "4", "seq-len"), ("--seq-len", "64", "seq-len"),
            ("--config", "huge", "config"), ("--watchdog-seconds", "-1", "watchdog"), ("--eval-samples", "-3", "eval-samples"),
            ("--steps", "9223372036854775807", "--steps must be at most 1099511627776"),
            ("--stop-after", "9223372036854775807", "--stop-after must be at most 1099511627776")
        ]
        for (flag, value, needle) in cases {
            var args = TrainingFixture.trainArguments(p, policy: "sift", steps: 2, checkpointDir: dir)
            if let i = args.firstIndex(of: flag) { args[i + 1] = value } else { args += [flag, value] }
            try expectFailure(args, ranks: 2, mentions: needle)
        }
        try expectFailure(["train", "--data", p.dataset, "--resume"], mentions: "checkpoint-dir")
        try expectFailure(["train", "--data", p.dataset, "--no-such-flag"], mentions: "no-such-flag")
    }

    func testModelAndCheckpointProblems() throws {
        let d = tempDir("models")
        try "not a model".write(toFile: d + "/model.txt", atomically: true, encoding: .utf8)
        let samples = d + "/s.jsonl"
        try "{\"input_ids\": [2, 4, 3], \"labels\": [-100, 7, -100]}\n".write(toFile: samples, atomically: true, encoding: .utf8)
        try expectFailure(["score", "--model", d + "/model.txt", samples], mentions: "not a sift checkpoint")
        try expectFailure(["score", "--model", d + "/nothing", samples], mentions: "does not exist")
        try FileManager.default.createDirectory(atPath: d + "/hf", withIntermediateDirectories: true)
        try expectFailure(["import", "--hf", d + "/hf", "--out", d + "/imported"], mentions: "config.json")
        XCTAssertFalse(FileManager.default.fileExists(atPath: d + "/imported"))
        try
            "{\"model_type\": \"bert\", \"vocab_size\": 30, \"hidden_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 16}"
            .write(toFile: d + "/hf/config.json", atomically: true, encoding: .utf8)
        try expectFailure(["import", "--hf", d + "/hf", "--out", d + "/imported"], mentions: "model.safetensors")
        // A safetensors file whose tensor has an unsupported dtype.
        let header = "{\"bert.embeddings.word_embeddings.weight\":{\"dtype\":\"I8\",\"shape\":[30,8],\"data_offsets\":[0,240]}}"
        var file = Data()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { file.append(contentsOf: $0) }
        file.append(contentsOf: Array(header.utf8))
        file.append(Data(count: 240))
        try file.write(to: URL(fileURLWithPath: d + "/hf/model.safetensors"))
        try expectFailure(["import", "--hf", d + "/hf", "--out", d + "/imported"], mentions: "I8")
        XCTAssertFalse(FileManager.default.fileExists(atPath: d + "/imported"))
    }

    func testHostfileProblems() throws {
        let launcher = SiftProcess.repository.appendingPathComponent("launch/mpirun.sh").path
        let d = tempDir("hosts")
        func run(_ hostfile: String, np: String = "2") throws -> (Int32, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: launcher)
            p.arguments = ["-np", np, "--hostfile", hostfile, "--", "debug-select"]
            var env = ProcessInfo.processInfo.environment
            env["SIFT_BINARY"] = SiftProcess.binary
            p.environment = env
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(60)
            while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            if p.isRunning {
                p.terminate()
                XCTFail("launcher hung on \(hostfile)")
            }
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        try "localhost slots=2\nnode one slots=x\n".write(toFile: d + "/syntax", atomically: true, encoding: .utf8)
        let (s1, e1) = try run(d + "/syntax")
        XCTAssertEqual(s1, 2)
        XCTAssertTrue(e1.contains("syntax:2"), e1)
        let (s2, e2) = try run(d + "/missing")
        XCTAssertEqual(s2, 2)
        XCTAssertTrue(e2.contains("cannot read hostfile"), e2)
        let (s3, _) = try run(d + "/syntax", np: "zero")
        XCTAssertEqual(s3, 2)
        try "no-such-host-sift.invalid slots=1\n".write(toFile: d + "/unknown", atomically: true, encoding: .utf8)
        let (s4, e4) = try run(d + "/unknown")
        XCTAssertNotEqual(s4, 0, e4)
        // A host listed twice: OpenMPI 4.1 fails on it with an "internal error"; the launcher refuses it first.
        try "127.0.0.1 slots=1\n# the same host again\n127.0.0.1 slots=1\n".write(toFile: d + "/twice", atomically: true, encoding: .utf8)
        let (s6, e6) = try run(d + "/twice")
        XCTAssertEqual(s6, 2, e6)
        XCTAssertTrue(e6.hasPrefix("error: \(d)/twice:3: host 127.0.0.1 is listed twice (lines 1 and 3)"), e6)
        XCTAssertEqual(e6.split(separator: "\n").count, 1, e6)
        // More ranks than slots is allowed: the launcher says so and oversubscribes, and both ranks run.
        try "localhost slots=1\n".write(toFile: d + "/one-slot", atomically: true, encoding: .utf8)
        let (s5, e5) = try run(d + "/one-slot")
        XCTAssertEqual(s5, 0, e5)
        XCTAssertTrue(e5.contains("note: 2 ranks exceed the 1 slots in \(d)/one-slot; oversubscribing"), e5)
    }

    /// `launch/mpirun.sh` turns OpenMPI's TCP progress thread on for hostfile runs only, and an explicit
    /// `--mca btl_tcp_progress_thread 0` wins (read off `--dry-run`'s mpirun command).
    func testLauncherTurnsOnTheTCPProgressThreadForHostfilesOnly() throws {
        let launcher = SiftProcess.repository.appendingPathComponent("launch/mpirun.sh").path
        let d = tempDir("progress-thread")
        try "localhost slots=2\n".write(toFile: d + "/hosts", atomically: true, encoding: .utf8)
        func command(_ args: [String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: launcher)
            p.arguments = args + ["--dry-run", "--", "train"]
            var env = ProcessInfo.processInfo.environment
            env["SIFT_BINARY"] = SiftProcess.binary
            p.environment = env
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, args.joined(separator: " "))
            return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }
        let hostfile = try command(["-np", "2", "--hostfile", d + "/hosts"])
        XCTAssertTrue(hostfile.contains("--mca btl_tcp_progress_thread 1"), hostfile)
        let off = try command(["-np", "2", "--hostfile", d + "/hosts", "--mca", "btl_tcp_progress_thread", "0"])
        XCTAssertTrue(off.contains("--mca btl_tcp_progress_thread 0") && !off.contains("btl_tcp_progress_thread 1"), off)
        let oneHost = try command(["-np", "2"])
        XCTAssertFalse(oneHost.contains("btl_tcp_progress_thread"), oneHost)
    }

    /// The launcher's hostfile check, fuzzed: 300 seeded mutations of a valid hostfile, each run with
    /// `--dry-run` (nothing is started). Every case must end with status 0 and the mpirun command, or
    /// status 2 and one `error:` line naming the file — never a bash error (division by zero, an octal
    /// `08`, an overflow) or another status. Accepted files are checked against the slot count computed
    /// here independently: `--oversubscribe` exactly when 3 ranks exceed it.
    func testHostfileFuzz() throws {
        let launcher = SiftProcess.repository.appendingPathComponent("launch/mpirun.sh").path
        let d = tempDir("hostfuzz")
        let valid = Array("# two nodes\nnode-a.cluster slots=2\nnode_b slots=1 max_slots=4   # spare\n\n10.0.0.7\n".utf8)
        var m = Mutator(seed: 21)
        var accepted = 0, refused = 0
        for k in 0..<300 {
            let bytes = m.mutate(valid)
            let path = d + "/hosts-\(k)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: launcher)
            p.arguments = ["-np", "3", "--hostfile", path, "--dry-run", "--", "train"]
            var env = ProcessInfo.processInfo.environment
            env["SIFT_BINARY"] = SiftProcess.binary
            env["LC_ALL"] = "C"
            env.removeValue(forKey: "OPENBLAS_NUM_THREADS")
            p.environment = env
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            let deadline = Date().addingTimeInterval(20)
            while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            if p.isRunning {
                p.terminate()
                XCTFail("case \(k): the launcher hung")
                continue
            }
            p.waitUntilExit()
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let errLines = stderr.split(separator: "\n")
            switch p.terminationStatus {
            case 0:
                accepted += 1
                XCTAssertTrue(stdout.hasPrefix("OPENBLAS_NUM_THREADS=") && stdout.contains("--hostfile \(path)"), "case \(k): \(stdout)")
                let slots = Self.slotCount(bytes)
                XCTAssertGreaterThan(slots, 0, "case \(k): accepted a file without slots")
                XCTAssertEqual(stdout.contains("--oversubscribe"), slots < 3, "case \(k): \(slots) slots; \(stdout)")
                XCTAssertTrue(errLines.allSatisfy { $0.hasPrefix("note: ") }, "case \(k): \(stderr)")
            case 2:
                refused += 1
                XCTAssertEqual(errLines.count, 1, "case \(k): \(stderr)")
                XCTAssertTrue(stderr.hasPrefix("error: \(path)"), "case \(k): \(stderr)")
            default:
                XCTFail("case \(k): status \(p.terminationStatus): \(stderr)")
            }
        }
        XCTAssertGreaterThan(accepted, 10, "the mutations never kept a hostfile valid")
        XCTAssertGreaterThan(refused, 10, "the mutations never broke a hostfile")
    }

    /// Slots of an accepted hostfile, computed independently of the launcher: per non-comment,
    /// non-blank line, its last whitespace-preceded `slots=N` (decimal, capped at 10⁹), else 1.
    static func slotCount(_ bytes: [UInt8]) -> Int {
        var total = 0
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let line = Array(raw.prefix { $0 != UInt8(ascii: "#") })
            let isSpace: (UInt8) -> Bool = { $0 == 32 || ($0 >= 9 && $0 <= 13) }
            if line.allSatisfy(isSpace) { continue }
            let words = line.split(whereSeparator: isSpace).map { String(decoding: $0, as: UTF8.self) }
            let slots = words.dropFirst().last { $0.hasPrefix("slots=") }.map { min(Int($0.dropFirst(6)) ?? Int.max, 1_000_000_000) }
            total += slots ?? 1
        }
        return total
    }
}
