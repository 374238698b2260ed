import Foundation
import SiftTestSupport
import XCTest

/// `tools/prepare_scaling_report.py`, which turns launch/prepare_scaling.sh's interleaved rounds into the
/// scaling table of docs/BENCHMARKS.md: speed-ups are ratios within a round, summarised by their median
/// (not their mean), the two independent processes count as twice the baseline's work, the goal's verdict
/// follows the median, an unfinished round is measured again, and differing datasets are one error line.
final class PrepareScalingReportTests: XCTestCase {
    let tool = SiftProcess.repository.appendingPathComponent("tools/prepare_scaling_report.py").path

    /// Three rounds. prepare at 1 thread takes 20 s each time; 2 threads take 10, 10 and 19 s (speed-ups
    /// 2.0, 2.0, 1.05: mean 1.68 below the goal of 1.8, median 2.0 above it); 2 ranks 12.5 s by the wall
    /// and 11 s by sift's own clock (1.6× and 1.82×); the two independent processes 25 s for twice the work
    /// (1.6×). `lastRound` adds a fourth round with only its first run; `otherManifest` gives one run another.
    func results(lastRound: Bool = false, otherManifest: Bool = false) throws -> String {
        let path = temporaryDirectory("prepare-scaling") + "/scaling.jsonl"
        var lines: [String] = []
        func line(_ round: Int, _ name: String, wall: Double, own: Double?, user: Double, manifest: String = "m1") -> String {
            #"{"round": \#(round), "name": "\#(name)", "wall": \#(wall), "own": \#(own.map { "\($0)" } ?? "null"), "#
                + #""user": \#(user), "sys": 0, "load1": 1.5, "bytes": 48000000, "manifest": "\#(manifest)", "#
                + #""binary": "abc", "cpu": "Test CPU"}"#
        }
        for (round, twoThreads) in [(1, 10.0), (2, 10.0), (3, 19.0)] {
            lines.append(line(round, "prepare-1", wall: 20, own: 19.9, user: 20))
            lines.append(line(round, "prepare-2", wall: twoThreads, own: twoThreads - 0.1, user: 21))
            lines.append(
                line(round, "prepare-mpi2", wall: 12.5, own: 11, user: 22, manifest: otherManifest && round == 2 ? "m2" : "m1"))
            lines.append(line(round, "prepare-pair", wall: 25, own: 24.9, user: 44))
            lines.append(line(round, "vocab-1", wall: 8, own: 7.9, user: 8, manifest: ""))
            lines.append(line(round, "vocab-2", wall: 5, own: 4.9, user: 8, manifest: ""))
        }
        if lastRound { lines.append(line(4, "prepare-1", wall: 20, own: 19.9, user: 20)) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testSpeedUpsAreWithinRoundRatiosReadByTheirMedian() throws {
        let out = try SiftProcess.run(["table", try results()], launcher: tool)
        XCTAssertEqual(out.status, 0, out.stderr)
        let table = out.stdout
        XCTAssertTrue(table.contains("| sift prepare, 2 threads | 10.00 s | 4.80 | 2.00× [1.05–2.00] | 2 of 3 | 1.05 |"), table)
        XCTAssertTrue(table.contains("sift prepare, 2 threads: 2.00× median against the goal of ≥ 1.8×: **met**"), table)
        XCTAssertTrue(
            table.contains(
                "2 ranks × 1 thread (mpirun): 1.60× median against the goal of ≥ 1.8×: **not met**; by sift's own clock, "
                    + "without the launch, 1.81×"), table)
        // Twice the work in 25 s against 20 s for once: 1.6×, at 1.10 the baseline's CPU per copy.
        XCTAssertTrue(table.contains("(the machine's ceiling) | 25.00 s | 3.84 | 1.60× [1.60–1.60] | 0 of 3 | 1.10 |"), table)
        XCTAssertTrue(table.contains("the machine's ceiling, two independent 1-thread processes at once: 1.60× median"), table)
        XCTAssertTrue(table.contains("| sift vocab, 2 threads | 5.00 s | 9.60 | 1.60× [1.60–1.60] | 0 of 3 | 1.00 |"), table)
        XCTAssertTrue(table.hasPrefix("3 rounds, each running the configurations below back to back on 48.0 MB"), table)
    }

    func testAnUnfinishedRoundIsMeasuredAgain() throws {
        let out = try SiftProcess.run(["rounds", try results(lastRound: true)], launcher: tool)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "3")
    }

    func testDifferingDatasetsAreOneErrorLine() throws {
        let out = try SiftProcess.run(["table", try results(otherManifest: true)], launcher: tool)
        XCTAssertEqual(out.status, 1)
        XCTAssertEqual(out.stderr, "error: the preparations wrote 2 different manifests\n")
    }
}
