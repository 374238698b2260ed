import Foundation
import SiftTestSupport
import XCTest

/// Defects a newcomer hit following the README, through the real binary (issue 10).
final class NewcomerDefectTests: XCTestCase {
    /// A checkpoint directory from a two-step run of the tiny model.
    func checkpointDirectory() throws -> String {
        let p = try TrainingFixture.paths()
        let dir = temporaryDirectory("ckpt")
        let out = try SiftProcess.run(
            TrainingFixture.trainArguments(p, policy: "vanilla", steps: 2, checkpointDir: dir),
            ranks: 1, timeout: 120)
        XCTAssertEqual(out.status, 0, out.stderr)
        return dir
    }

    @discardableResult
    func expectError(_ args: [String], mentions needle: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let out = try SiftProcess.run(args, timeout: 60)
        XCTAssertNotEqual(out.status, 0, "\(args) succeeded", file: file, line: line)
        XCTAssertTrue(out.stderr.hasPrefix("error: "), "\(args): \(out.stderr)", file: file, line: line)
        XCTAssertTrue(out.stderr.hasSuffix("\n"), "\(args): error line without its newline: \(out.stderr)", file: file, line: line)
        XCTAssertTrue(out.stderr.contains(needle), "\(args) should mention '\(needle)': \(out.stderr)", file: file, line: line)
        return out.stderr
    }

    /// README: "A model M is a HuggingFace-format directory, a sift checkpoint file, or a checkpoint
    /// directory". `export` used to read only the first.
    func testExportFromCheckpointDirectoryAndFile() throws {
        let ckpt = try checkpointDirectory()
        let out = temporaryDirectory("hf")
        let fromDir = try SiftProcess.run(["export", "--model", ckpt, "--hf", out + "/a"], timeout: 60)
        XCTAssertEqual(fromDir.status, 0, fromDir.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/a/config.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/a/model.safetensors"))
        let file = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: ckpt).filter { $0.hasSuffix(".ckpt") }.sorted().last)
        let fromFile = try SiftProcess.run(["export", "--model", ckpt + "/" + file, "--hf", out + "/b"], timeout: 60)
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        XCTAssertEqual(
            FileManager.default.contents(atPath: out + "/a/model.safetensors"),
            FileManager.default.contents(atPath: out + "/b/model.safetensors"))
    }

    /// An existing file that is not a model is reported as such, not as missing.
    func testExistingNonCheckpointFileIsNotCalledMissing() throws {
        let d = temporaryDirectory("file")
        try "not a checkpoint".write(toFile: d + "/model.ckpt", atomically: true, encoding: .utf8)
        let err = try expectError(["export", "--model", d + "/model.ckpt", "--hf", d + "/out"], mentions: "not a sift checkpoint")
        XCTAssertFalse(err.lowercased().contains("no such file"), err)
    }

    /// With --init-from the model's own layers bound --exit-layer, not those of --config (whose default,
    /// mini, has 4): a 4-layer model given with --config tiny (2 layers) accepts --exit-layer 3, and
    /// rejects 5 naming the model's 4 layers.
    func testExitLayerIsCheckedAgainstTheInitialModel() throws {
        let p = try TrainingFixture.paths()
        let d = temporaryDirectory("init-from")
        var export = TrainingFixture.trainArguments(
            p, policy: "vanilla", steps: 1, checkpointDir: d + "/c0", extra: ["--export", d + "/mini"])
        export[export.firstIndex(of: "tiny")!] = "mini"
        let made = try SiftProcess.run(export, timeout: 300)
        XCTAssertEqual(made.status, 0, made.stderr)
        func arguments(exit: String, dir: String) -> [String] {
            var a = TrainingFixture.trainArguments(p, policy: "sift", steps: 1, checkpointDir: dir, extra: ["--init-from", d + "/mini"])
            a[a.firstIndex(of: "--exit-layer")! + 1] = exit
            return a
        }
        let deep = try SiftProcess.run(arguments(exit: "3", dir: d + "/c1"), timeout: 300)
        XCTAssertEqual(deep.status, 0, deep.stderr)
        let beyond = try SiftProcess.run(arguments(exit: "5", dir: d + "/c2"), timeout: 300)
        XCTAssertNotEqual(beyond.status, 0)
        XCTAssertTrue(beyond.stderr.contains("--exit-layer must be between 1 and the model's 4 layers (got 5)"), beyond.stderr)
    }

    func testTrainNamesTheMissingDataset() throws {
        let err = try expectError(
            ["train", "--config", "tiny", "--data", "/nonexistent-sift-dataset", "--steps", "1"],
            mentions: "/nonexistent-sift-dataset")
        XCTAssertFalse(err.contains("no vocabulary"), err)
    }

    /// Standard input is empty (SiftProcess gives /dev/null): no talk of a corpus or a temporary file.
    func testScoreOnEmptyStandardInput() throws {
        let ckpt = try checkpointDirectory()
        let err = try expectError(["score", "--model", ckpt], mentions: "no samples on standard input")
        XCTAssertFalse(err.contains("corpus"), err)
        XCTAssertFalse(err.contains("sift-score-"), err)
    }
}
