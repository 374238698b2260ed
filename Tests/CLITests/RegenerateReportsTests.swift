import Foundation
import SiftTestSupport
import XCTest

/// Every generated experiment table is what the report tools write from the committed logs:
/// `tools/regenerate_reports.sh` on a copy of docs/ and tools/ reproduces every results.md and
/// docs/EXPERIMENTS.md byte for byte, so a table edited by hand (or a tool changed without regenerating)
/// fails here.
final class RegenerateReportsTests: XCTestCase {
    /// Copies docs/ and tools/ into a temporary directory, runs the regeneration there and returns the
    /// copy's path; `edit` may change the copy first; `folders` limits it to those (default: every folder).
    func regenerate(folders: [String] = [], edit: (String) throws -> Void = { _ in }) throws -> String {
        let root = SiftProcess.repository.path
        let copy = temporaryDirectory("regenerate")
        for folder in ["docs", "tools"] {
            try FileManager.default.copyItem(atPath: root + "/" + folder, toPath: copy + "/" + folder)
        }
        try edit(copy)
        let out = try SiftProcess.run(folders, timeout: 600, launcher: copy + "/tools/regenerate_reports.sh")
        XCTAssertEqual(out.status, 0, "regenerate_reports.sh failed:\n\(out.stderr)")
        return copy
    }

    /// The files the regeneration writes: docs/EXPERIMENTS.md and each folder's results.md and verdict.json
    /// (the numbers `tools/verdict_report.py` writes the verdict bullets from).
    func generatedFiles(under root: String) throws -> [String] {
        let folders = try FileManager.default.contentsOfDirectory(atPath: root + "/docs/experiment").sorted()
        return ["docs/EXPERIMENTS.md"]
            + folders.flatMap { ["docs/experiment/\($0)/results.md", "docs/experiment/\($0)/verdict.json"] }
            .filter { FileManager.default.fileExists(atPath: root + "/" + $0) }
    }

    func differing(_ a: String, _ b: String) throws -> [String] {
        try generatedFiles(under: a).filter {
            (try? String(contentsOfFile: a + "/" + $0, encoding: .utf8)) != (try? String(contentsOfFile: b + "/" + $0, encoding: .utf8))
        }
    }

    func testCommittedTablesAreWhatTheToolsWrite() throws {
        let copy = try regenerate()
        let root = SiftProcess.repository.path
        XCTAssertGreaterThan(try generatedFiles(under: root).count, 5)
        XCTAssertEqual(try differing(root, copy), [], "regenerated from the committed logs, these differ from the committed files")
    }

    /// The check can fail: a figure changed by hand in a copy's table is put back by the regeneration.
    func testAHandEditedTableIsCaught() throws {
        var edited = ""
        let copy = try regenerate(folders: ["docs/experiment/timed-gcide-mini-6000"]) { copy in
            let path = copy + "/docs/EXPERIMENTS.md"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let range = text.range(of: "0.88 [0.86–0.90]") else { return XCTFail("the figure to edit is gone") }
            edited = text.replacingCharacters(in: range, with: "0.75 [0.70–0.80]")
            try edited.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let regenerated = try String(contentsOfFile: copy + "/docs/EXPERIMENTS.md", encoding: .utf8)
        XCTAssertNotEqual(regenerated, edited)
        XCTAssertTrue(regenerated.contains("0.88 [0.86–0.90]"))
    }
}
