import Foundation
import SiftTestSupport
import Training
import XCTest

/// Fuzzes what `sift train` trusts from its input files, all the way to the first step: the dataset
/// manifest, a `--config` config.json and a checkpoint header get one field set to a valid-but-wrong value
/// (`Mutator.mutateField`: sizes, counts, hashes, dtypes, settings), and a real `sift train` runs on them.
/// Each run must train (the field was harmless) or stop with status 2 and an `error:` line — never a trap
/// or a signal. docs/RELIABILITY.md, "Fuzzed parsers".
final class SetupFuzzTests: XCTestCase {
    static let casesPerFile = 20

    /// Runs `args`, checks it ended in status 0 or 2 (with an `error:` line) and returns whether it trained.
    func trainsOrRefuses(_ args: [String], ranks: Int? = nil, change: String, file: StaticString = #filePath, line: UInt = #line) throws
        -> Bool
    {
        let out = try SiftProcess.run(args, ranks: ranks, timeout: 120)
        XCTAssertFalse(out.timedOut, "\(change): hung", file: file, line: line)
        XCTAssertFalse(
            out.stderr.contains("Fatal error") || out.stderr.contains("Precondition failed"), "\(change): trapped: \(out.stderr)",
            file: file, line: line)
        XCTAssertTrue(out.status == 0 || out.status == 2, "\(change): status \(out.status): \(out.stderr)", file: file, line: line)
        if out.status == 2 {
            XCTAssertTrue(
                out.stderr.split(separator: "\n").contains { $0.hasPrefix("error: ") }, "\(change): no error line: \(out.stderr)",
                file: file, line: line)
        }
        return out.status == 0
    }

    /// The finding: a manifest whose `vocabSize` is 2000 or 100 instead of the vocabulary's 400 tokens
    /// trapped `sift train --policy sift` at a precondition (exit 132) on 1 and 2 ranks. Now one line names both.
    func testManifestVocabSizeOtherThanTheVocabularyIsRefusedAtSetup() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("sf-vocabsize")
        let data = dir + "/dataset"
        try FileManager.default.copyItem(atPath: p.dataset, toPath: data)
        let manifest = try String(contentsOfFile: data + "/manifest.json", encoding: .utf8)
        let tokens = try String(contentsOfFile: p.vocab, encoding: .utf8).split(separator: "\n").count
        for size in [2 * tokens, 100] {
            let changed = manifest.replacingOccurrences(of: "\"vocabSize\" : \(tokens)", with: "\"vocabSize\" : \(size)")
                .replacingOccurrences(of: "\"vocabSize\":\(tokens)", with: "\"vocabSize\":\(size)")
            XCTAssertNotEqual(changed, manifest, "the manifest's vocabSize field was not found")
            try changed.write(toFile: data + "/manifest.json", atomically: true, encoding: .utf8)
            for ranks in [nil, 2] as [Int?] {
                var args = TrainingFixture.trainArguments(p, policy: "sift", steps: 1, checkpointDir: dir + "/ck")
                args[args.firstIndex(of: "--data")! + 1] = data
                let out = try SiftProcess.run(args, ranks: ranks, timeout: 120)
                XCTAssertEqual(out.status, 2, "vocabSize \(size), ranks \(ranks ?? 1): \(out.stderr)")
                XCTAssertTrue(out.stderr.contains("vocabSize \(size)") && out.stderr.contains("\(tokens) tokens"), out.stderr)
                XCTAssertFalse(out.stderr.contains("Fatal error"), out.stderr)
            }
        }
    }

    func testManifestFieldsToTheFirstStep() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("sf-manifest")
        let data = dir + "/dataset"
        try FileManager.default.copyItem(atPath: p.dataset, toPath: data)
        let original = [UInt8](FileManager.default.contents(atPath: data + "/manifest.json")!)
        var m = Mutator(seed: 36)
        var trained = 0, refused = 0
        for k in 0..<Self.casesPerFile {
            guard let mutation = m.mutateField(original) else { continue }
            let (bytes, change) = (mutation.bytes, mutation.change)
            try Data(bytes).write(to: URL(fileURLWithPath: data + "/manifest.json"))
            var args = TrainingFixture.trainArguments(p, policy: "sift", steps: 1, checkpointDir: dir + "/ck\(k)")
            args[args.firstIndex(of: "--data")! + 1] = data
            if try trainsOrRefuses(args, change: "manifest \(change)") { trained += 1 } else { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 0)
        XCTAssertGreaterThan(trained + refused, Self.casesPerFile / 2)
    }

    func testConfigFieldsToTheFirstStep() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("sf-config")
        let base = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "vanilla", steps: 1, checkpointDir: dir + "/ck",
                extra: ["--export", dir + "/hf"]))
        XCTAssertEqual(base.status, 0, base.stderr)
        let original = [UInt8](FileManager.default.contents(atPath: dir + "/hf/config.json")!)
        var m = Mutator(seed: 37)
        var trained = 0, refused = 0
        for k in 0..<Self.casesPerFile {
            guard let mutation = m.mutateField(original) else { continue }
            let (bytes, change) = (mutation.bytes, mutation.change)
            let config = dir + "/config-\(k).json"
            try Data(bytes).write(to: URL(fileURLWithPath: config))
            var args = TrainingFixture.trainArguments(p, policy: "sift", steps: 1, checkpointDir: dir + "/ck\(k)")
            args[args.firstIndex(of: "--config")! + 1] = config
            if try trainsOrRefuses(args, change: "config.json \(change)") { trained += 1 } else { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 0)
        XCTAssertGreaterThan(trained, 0)
    }

    /// A checkpoint header with one field changed (and a correct checksum, so only the checks against the
    /// run can refuse it), resumed on 1 rank and, for a few cases, on 2.
    func testCheckpointHeaderFieldsToTheFirstStep() throws {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("sf-ckpt")
        let first = try SiftProcess.run(
            TrainingFixture.trainArguments(
                p, policy: "sift", steps: 3, checkpointDir: dir + "/ck",
                extra: ["--stop-after", "1", "--checkpoint-every", "1"]))
        XCTAssertEqual(first.status, 0, first.stderr)
        let saved = try TrainingCheckpoint.load(path: try XCTUnwrap(TrainingCheckpoint.list(directory: dir + "/ck").last).path)
        let original = [UInt8](try JSONEncoder().encode(saved.state))
        var m = Mutator(seed: 38)
        var trained = 0, refused = 0, cases = 0
        while cases < Self.casesPerFile {
            guard let mutation = m.mutateField(original) else { continue }
            let (bytes, change) = (mutation.bytes, mutation.change)
            // Only headers that still decode are valid-but-wrong; the byte fuzzer covers the rest.
            guard let state = try? JSONDecoder().decode(CheckpointState.self, from: Data(bytes)) else { continue }
            let ck = dir + "/case\(cases)"
            try TrainingCheckpoint.save(state: state, parameters: saved.parameters, m: saved.m, v: saved.v, directory: ck, keep: 1)
            let args = TrainingFixture.trainArguments(p, policy: "sift", steps: 3, checkpointDir: ck, extra: ["--resume"])
            if try trainsOrRefuses(args, ranks: cases % 4 == 0 ? 2 : nil, change: "checkpoint \(change)") {
                trained += 1
            } else {
                refused += 1
            }
            cases += 1
        }
        XCTAssertGreaterThan(refused, 0)
    }
}
