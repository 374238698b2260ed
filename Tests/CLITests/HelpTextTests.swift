import Foundation
import SiftTestSupport
import XCTest

/// `--help` says what a flag does, its unit and its default: no measured percentages and no pointers into
/// README sections (the evidence for defaults is in docs/DECISIONS.md), and no default stated twice, through
/// the real binary.
final class HelpTextTests: XCTestCase {
    static let commands = [
        "", "tokenize", "vocab", "prepare", "train", "score", "advise", "export", "import", "bench",
        "project", "debug-select", "scaling-summary"
    ]

    func testHelpHasNoPercentagesAndNoReadmeReferences() throws {
        for command in Self.commands {
            let out = try SiftProcess.run((command.isEmpty ? [] : [command]) + ["--help"], timeout: 60)
            XCTAssertEqual(out.status, 0, "sift \(command) --help: \(out.stderr)")
            XCTAssertTrue(out.stdout.contains("USAGE:"), "sift \(command) --help printed no usage")
            for line in out.stdout.split(separator: "\n") {
                XCTAssertFalse(line.contains("%"), "sift \(command) --help quotes a percentage: \(line)")
                XCTAssertFalse(line.contains("README"), "sift \(command) --help points into README: \(line)")
            }
            // A default stated in the help string and again by the parser reads "(default: x). (default: x)",
            // or "(default: x, about y). (default: x)" when the help string adds to it.
            let flat = out.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            let twice = try NSRegularExpression(pattern: #"\(default: ([^,)]*)[^)]*\)\.? \(default: \1\)"#)
            let match = twice.firstMatch(in: flat, range: NSRange(flat.startIndex..., in: flat))
            XCTAssertNil(
                match, "sift \(command) --help states a default twice: \(match.map { (flat as NSString).substring(with: $0.range) } ?? "")")
        }
    }

    /// Every selection flag's help names its default, read from the library's options.
    func testTrainHelpShowsTheLibraryDefaults() throws {
        let help = try SiftProcess.run(["train", "--help"], timeout: 60).stdout.replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "  ", with: " ")
        for needle in [
            "--rule <rule>", "--history-length <history-length>", "--sift-delay <sift-delay>", "default: 0.75",
            "default: 1000", "default: top", "default: 500"
        ] {
            XCTAssertTrue(help.contains(needle), "sift train --help lacks '\(needle)'")
        }
        for old in ["--selection <", "--history <", "--selection-warmup"] {
            XCTAssertFalse(help.contains(old), "sift train --help still shows the old name \(old)")
        }
    }

    /// The old spellings still parse (scripts use them): the run gets as far as the missing dataset.
    func testOldFlagNamesStillParse() throws {
        let d = temporaryDirectory("aliases")
        let out = try SiftProcess.run(
            [
                "train", "--data", d + "/none", "--selection", "relative", "--history", "7",
                "--selection-warmup", "3"
            ], timeout: 60)
        XCTAssertNotEqual(out.status, 0)
        XCTAssertTrue(out.stderr.contains("does not exist"), out.stderr)
    }
}
