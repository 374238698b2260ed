import Foundation
import SiftTestSupport
import XCTest

/// `tools/prepare_bench_report.py`, which launch/prepare_bench.sh records its measurements with and which
/// writes the table of docs/BENCHMARKS.md: the goals' verdicts are computed from the measured rates, and
/// datasets that differ between worker counts stop the benchmark with one `error:` line.
final class PrepareBenchReportTests: XCTestCase {
    let tool = SiftProcess.repository.appendingPathComponent("tools/prepare_bench_report.py").path

    /// `/usr/bin/time -v` output as GNU time writes it (the lines the tool reads).
    func timeOutput(wall: String, user: Double, rssKiB: Int) -> String {
        """
        \tCommand being timed: "sift prepare"
        \tUser time (seconds): \(user)
        \tSystem time (seconds): 0.50
        \tPercent of CPU this job got: 99%
        \tElapsed (wall clock) time (h:mm:ss or m:ss): \(wall)
        \tMaximum resident set size (kbytes): \(rssKiB)
        \tExit status: 0

        """
    }

    /// A results file with the 1- and 2-thread and 2-rank preparations of a 100 MB corpus (2 threads
    /// 1.5× as fast as 1, 2 ranks 1.9×) and HF tokenizers on 2 threads; `differentRanks` gives the
    /// 2-rank run another manifest.
    func results(differentRanks: Bool = false) throws -> String {
        let dir = temporaryDirectory("prepare-bench")
        let results = dir + "/results.json"
        let corpus = #"{"dir": "c", "bytes": 100000000, "files": 12, "distinct_bytes": 25000000, "sources": "GCIDE"}"#
        try corpus.write(toFile: dir + "/corpus.json", atomically: true, encoding: .utf8)
        try "not a real binary".write(toFile: dir + "/sift", atomically: true, encoding: .utf8)
        var out = try SiftProcess.run(
            ["init", results, "--size-mb", "100", "--cpu", "Test CPU", "--corpus-json", dir + "/corpus.json", "--binary", dir + "/sift"],
            launcher: tool)
        XCTAssertEqual(out.status, 0, out.stderr)
        func manifest(_ name: String, tokens: Int) throws -> String {
            let path = dir + "/\(name).json"
            let text = """
                {"tokens": \(tokens), "trainSequences": 200000, "validationSequences": 2000, "seqLen": 128,
                 "tokenDtype": "uint16", "corpusBytes": 100000000}
                """
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        // (name, kind, threads, ranks, wall, manifest tokens or nil for HF)
        let runs: [(String, String, Int, Int, String, Int?)] = [
            ("prepare-1", "prepare", 1, 1, "1:40.00", 25_000_000), ("prepare-2", "prepare", 2, 1, "1:06.67", 25_000_000),
            ("prepare-mpi2", "prepare", 1, 2, "0:52.63", differentRanks ? 25_000_001 : 25_000_000),
            ("hf", "hf", 2, 1, "4:10.00", nil)
        ]
        for (name, kind, threads, ranks, wall, tokens) in runs {
            let time = dir + "/\(name).time"
            try timeOutput(wall: wall, user: 90, rssKiB: 40960).write(toFile: time, atomically: true, encoding: .utf8)
            var args = [
                "record", results, name, "--label", name, "--kind", kind, "--threads", "\(threads)", "--ranks", "\(ranks)",
                "--command", "sift \(name)", "--time", time, "--load-start", "0.10 0.20 0.30", "--load-end", "0.40 0.30 0.30",
                "--input-bytes", "100000000"
            ]
            if let tokens { args += ["--manifest", try manifest(name, tokens: tokens)] }
            if kind == "hf" {
                try #"{"threads": 2, "tokens": 25000000}"#.write(toFile: dir + "/hf.json", atomically: true, encoding: .utf8)
                args += ["--extra", dir + "/hf.json"]
            }
            if ranks == 2 {
                for r in 0..<2 {
                    let rankTime = dir + "/rank.\(r).time"
                    try timeOutput(wall: "0:50.00", user: 45, rssKiB: 30720 + r * 1024).write(
                        toFile: rankTime, atomically: true, encoding: .utf8)
                    args += ["--rank-time", rankTime]
                }
            }
            out = try SiftProcess.run(args, launcher: tool)
            XCTAssertEqual(out.status, 0, "\(name): \(out.stderr)")
        }
        return results
    }

    func testVerdictsAreComputedFromTheMeasuredRates() throws {
        let results = try results()
        let out = try SiftProcess.run(["table", results], launcher: tool)
        XCTAssertEqual(out.status, 0, out.stderr)
        let table = out.stdout
        XCTAssertTrue(table.contains("| sift prepare, 1 thread | 1.00 | 0.25 M | 40.0 MiB | 100.0 s | 90.5 s | 1.00× | 0.10 |"), table)
        XCTAssertTrue(table.contains("≥ 1.8× the 1-thread rate at 2 threads: **not met** (1.50×)"), table)
        XCTAssertTrue(table.contains("≥ 1.8× from 1 to 2 MPI ranks: **met** (1.90×)"), table)
        // The 2-rank run's peak is its larger rank's; its CPU the ranks' sum.
        XCTAssertTrue(table.contains("31.0 MiB (ranks 30.0, 31.0) | 52.6 s | 91.0 s | 1.90×"), table)
        // sift 1.00 MB/s on one thread against HF's 0.40 MB/s on 2 threads.
        XCTAssertTrue(table.contains("ahead of HF tokenizers per core: **met**"), table)
        XCTAssertTrue(table.contains("0.20 MB/s per thread: 5.00×"), table)
        XCTAssertTrue(table.contains("| sift vocab, 1 thread | not yet measured |"), table)
        XCTAssertTrue(table.contains("repeated 4.0 times, a throughput test"), table)
        // 1.00 MB/s × 1024 × 0.75 × 0.95.
        XCTAssertTrue(table.contains("= **730 MB/s**"), table)
        XCTAssertFalse(table.contains("(busy)"), table)
    }

    func testDifferingDatasetsAreOneErrorLine() throws {
        let results = try results(differentRanks: true)
        let out = try SiftProcess.run(["same", results, "prepare-1", "prepare-2", "prepare-mpi2"], launcher: tool)
        XCTAssertEqual(out.status, 1)
        XCTAssertTrue(out.stderr.hasPrefix("error: the datasets differ: manifest sha256 prepare-1 "), out.stderr)
        XCTAssertEqual(out.stderr.split(separator: "\n").count, 1, out.stderr)
        let same = try SiftProcess.run(["same", try self.results(), "prepare-1", "prepare-2", "prepare-mpi2"], launcher: tool)
        XCTAssertEqual(same.status, 0, same.stderr)
    }
}
