import Foundation
import SiftTestSupport
import XCTest

/// Issue 36's findings about sizes and messages, through the real CLI: a pool bounded before anything is
/// allocated (against the training split and the machine's memory), a `--data` that is not a dataset, broken
/// JSON Lines named by line, and `--sift-delay`'s help. docs/RELIABILITY.md lists these cases.
final class BoundedInputTests: XCTestCase {
    func train(_ p: TrainingFixture.Paths, _ extra: [String], steps: Int = 1, ranks: Int? = nil) throws -> SiftProcess.Output {
        let ck = temporaryDirectory("bi-ck")
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(p, policy: "sift", steps: steps, checkpointDir: ck, extra: extra),
            ranks: ranks, timeout: 180)
        XCTAssertFalse(out.timedOut)
        XCTAssertFalse(out.stderr.contains("Fatal error") || out.stderr.contains("Precondition failed"), out.stderr)
        return out
    }

    /// `--select-fraction 1e-9` made a pool of billions and aborted allocating it; now the pool's memory is
    /// estimated at setup and refused with the numbers (status 2) on every rank, and a pool past 2^40 is a bad flag.
    func testTinySelectFractionIsRefusedWithTheNumbersBeforeAllocating() throws {
        let p = try TrainingFixture.paths()
        for ranks in [nil, 2] as [Int?] {
            let out = try train(p, ["--select-fraction", "1e-9"], ranks: ranks)
            XCTAssertEqual(out.status, 2, out.stderr)
            XCTAssertTrue(
                out.stderr.contains("error: ") && out.stderr.contains("more than this machine's")
                    && out.stderr.contains("12000000000 candidates") && out.stderr.contains("GiB"), out.stderr)
        }
        let absurd = try train(p, ["--select-fraction", "1e-14"])
        XCTAssertEqual(absurd.status, 64, absurd.stderr)
        XCTAssertTrue(absurd.stderr.contains("error: --select-fraction 1e-14 makes a pool of"), absurd.stderr)
    }

    /// `--select-fraction 0.01` asked for a pool of 1,200 from 615 training samples without a word.
    func testPoolLargerThanTheTrainingSplitIsAWarningWithBothNumbers() throws {
        let p = try TrainingFixture.paths()
        let out = try train(p, ["--select-fraction", "0.01"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(
            out.stderr.contains("warning: the pool of 1200 candidates per step") && out.stderr.contains("615 training samples"),
            out.stderr)
        let fits = try train(p, ["--select-fraction", "0.5"])
        XCTAssertFalse(fits.stderr.contains("warning: the pool"), fits.stderr)
    }

    /// `--data` at an unrelated folder said "no vocabulary: pass --vocab FILE".
    func testDataThatIsNotADatasetSaysSo() throws {
        let p = try TrainingFixture.paths()
        let folder = temporaryDirectory("bi-folder")
        try "notes".write(toFile: folder + "/notes.txt", atomically: true, encoding: .utf8)
        for vocab in [[], ["--vocab", p.vocab]] {
            let out = try SiftProcess.run(["train", "--config", "tiny", "--data", folder, "--steps", "1"] + vocab, timeout: 60)
            XCTAssertEqual(out.status, 2, out.stderr)
            XCTAssertTrue(out.stderr.contains("error: \(folder) is not a sift dataset (no manifest.json)"), out.stderr)
        }
    }

    /// Broken JSON Lines were counted as "records without a text field", with no line numbers.
    func testBrokenJSONLinesAreNamedByLine() throws {
        let p = try TrainingFixture.paths()
        let d = temporaryDirectory("bi-jsonl")
        let words = try String(contentsOfFile: p.root + "/corpus/text.txt", encoding: .utf8)
            .split(whereSeparator: \.isNewline).prefix(40).map { $0.replacingOccurrences(of: "\"", with: "") }
        var lines = words.map { "{\"text\": \"\($0)\"}" }
        lines[1] = "{\"text\": \"cut off"  // line 2: not JSON
        lines[3] = "text without braces"  // line 4: not JSON
        lines[4] = "{\"id\": 5}"  // line 5: no text field
        try FileManager.default.createDirectory(atPath: d + "/corpus", withIntermediateDirectories: true)
        let file = d + "/corpus/docs.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let out = try SiftProcess.run(["prepare", "--corpus", d + "/corpus", "--vocab", p.vocab, "--seq-len", "32", "--out", d + "/ds"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let expected = [
            "warning: \(file):2: not a JSON object; record skipped", "warning: \(file):4: not a JSON object; record skipped",
            "warning: \(file):5: no string \"text\" field; record skipped",
            "warning: skipped 3 JSON Lines record(s): 2 not a JSON object, 1 without a string \"text\" field"
        ]
        XCTAssertEqual(out.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("warning:") }, expected, out.stderr)
        XCTAssertTrue(out.stdout.contains("3 JSON Lines record(s)"), out.stdout)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d + "/ds/manifest.json")))
        XCTAssertEqual((manifest as? [String: Any])?["skippedRecords"] as? Int, 3)
    }

    /// `--sift-delay`'s help said "0 with --init-from", which the code does not do: it tells the user to pass 0.
    func testSiftDelayHelpTellsTheUserToPassZeroWithInitFrom() throws {
        let help = try SiftProcess.run(["train", "--help"])
        let text = help.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        XCTAssertTrue(text.contains("with --init-from (a trained model) pass 0"), text)
        XCTAssertFalse(text.contains("before a selecting policy starts selecting; 0 with --init-from"), text)
    }
}
