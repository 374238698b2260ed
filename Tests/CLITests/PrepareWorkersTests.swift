import Foundation
import SiftTestSupport
import XCTest

/// `sift prepare` on several threads and several mpirun ranks writes the same dataset, byte for byte, as
/// on one thread — and as the single-threaded prepare before workers existed (recorded checksums).
final class PrepareWorkersTests: XCTestCase {
    /// A deterministic corpus of about 10 MB: small files around one large text file that the plan cuts
    /// into byte ranges (4 MiB), with a 3 MB stretch without blank lines (a document that spans a cut),
    /// a 1.5 MB line (cut into pieces by the reader), and invalid UTF-8.
    static func writeCorpus(_ dir: String) throws {
        var state: UInt64 = 0x5EED
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        let words = [
            "the", "data", "model", "token", "shard", "rank", "thread", "corpus", "line", "alpha", "beta",
            "gamma", "delta", "river", "stone", "light", "north", "quiet", "paper", "seven", "zephyr"
        ]
        func sentence() -> String {
            (0..<(3 + next() % 12)).map { _ in words[next() % words.count] + (next() % 9 == 0 ? "\(next() % 100)" : "") }
                .joined(separator: " ") + "."
        }
        func paragraphs(bytes: Int, blankLines: Bool) -> String {
            var out = "", n = 0
            while out.utf8.count < bytes {
                out += sentence() + "\n"
                n += 1
                if blankLines && next() % 4 == 0 { out += "\n" }
            }
            return out
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try paragraphs(bytes: 20_000, blankLines: true).write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
        var large = paragraphs(bytes: 3_000_000, blankLines: true)
        large += paragraphs(bytes: 3_000_000, blankLines: false) + "\n"
        large += paragraphs(bytes: 2_000_000, blankLines: true) + "\n"
        large += String(repeating: "stone river ", count: 130_000) + "\n\n"
        large += paragraphs(bytes: 2_000_000, blankLines: true)
        var bytes = Array(large.utf8)
        bytes.insert(contentsOf: [0xFF, 0xC3], at: 5_000_001)
        _ = FileManager.default.createFile(atPath: dir + "/b-large.txt", contents: Data(bytes))
        try paragraphs(bytes: 5_000, blankLines: true).write(toFile: dir + "/c.txt", atomically: true, encoding: .utf8)
        try paragraphs(bytes: 300_000, blankLines: false).write(toFile: dir + "/d.txt", atomically: true, encoding: .utf8)
    }

    /// Shard checksums of the corpus above from the single-threaded prepare of commit 626f11d (before
    /// chunks and workers), with `--seq-len 64 --validation-fraction 0.05 --shard-sequences 20000`.
    static let recordedShards = [
        "train-00000.bin": "427c4e9679596912", "train-00001.bin": "13ff6eba34704b04",
        "validation-00000.bin": "fcbaf1efb4a7dfb8"
    ]

    /// Every file of a dataset directory, by name.
    func contents(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            out[name] = FileManager.default.contents(atPath: dir + "/" + name)
        }
        return out
    }

    /// A fresh folder with the corpus above in corpus/ and a 300-piece vocab.txt learned from its a.txt; returns
    /// the folder and the arguments of a preparation of that corpus (without --out and --threads).
    func corpusAndVocabulary(_ tag: String) throws -> (dir: String, common: [String]) {
        let d = temporaryDirectory(tag)
        try Self.writeCorpus(d + "/corpus")
        let vocab = try SiftProcess.run(["vocab", "--corpus", d + "/corpus/a.txt", "--size", "300", "--out", d + "/vocab.txt"])
        XCTAssertEqual(vocab.status, 0, vocab.stderr)
        let common = [
            "prepare", "--corpus", d + "/corpus", "--vocab", d + "/vocab.txt", "--seq-len", "64",
            "--validation-fraction", "0.05", "--shard-sequences", "20000"
        ]
        return (d, common)
    }

    func testSameDatasetOnAnyNumberOfThreadsAndRanks() throws {
        let (d, common) = try corpusAndVocabulary("prep-workers")
        func prepare(_ name: String, threads: Int, ranks: Int? = nil, _ extra: [String] = []) throws -> (
            out: SiftProcess.Output, files: [String: Data]
        ) {
            let out = try SiftProcess.run(
                common + ["--out", d + "/" + name, "--threads", "\(threads)"] + extra, ranks: ranks, timeout: 600)
            XCTAssertEqual(out.status, 0, "\(name): \(out.stderr)")
            XCTAssertFalse(out.timedOut, name)
            return (out, try contents(d + "/" + name))
        }
        let one = try prepare("t1", threads: 1)
        XCTAssertTrue(one.out.stdout.contains("read 4 files ("), one.out.stdout)
        XCTAssertFalse(one.out.stdout.contains(", 4 chunks)"), "the large file was not cut into byte ranges: \(one.out.stdout)")
        let manifest = try JSONSerialization.jsonObject(with: one.files["manifest.json"]!) as! [String: Any]
        let shards = ((manifest["trainShards"] as! [[String: Any]]) + (manifest["validationShards"] as! [[String: Any]]))
        let checksums = Dictionary(uniqueKeysWithValues: shards.map { ($0["file"] as! String, $0["fnv1a64"] as! String) })
        XCTAssertEqual(checksums, Self.recordedShards, "not the shards of the single-threaded prepare")
        // r2small: 64 KiB chunks, so that a rank keeps many parts in flight to rank 0 at once.
        for (name, threads, ranks, extra) in [
            ("t2", 2, nil, []), ("t3", 3, nil, []), ("r2", 1, 2, []), ("r3", 1, 3, []), ("r2t2", 2, 2, []),
            ("r2small", 1, 2, ["--debug-chunk-bytes", "65536"])
        ] as [(String, Int, Int?, [String])] {
            let other = try prepare(name, threads: threads, ranks: ranks, extra)
            XCTAssertEqual(Set(other.files.keys), Set(one.files.keys), name)
            for (file, bytes) in one.files {
                XCTAssertTrue(other.files[file] == bytes, "\(name): \(file) differs from the 1-thread dataset")
            }
            XCTAssertEqual(other.out.stderr, one.out.stderr, "\(name): the warnings differ")
        }
    }

    /// Ranks take chunks as they free up, not a fixed share: with rank 1 of 3 waiting 2 s before each chunk
    /// and the large file cut into 256 KiB chunks (dealt about 1 MiB at a time), ranks 0 and 2 tokenize
    /// what rank 1 would have under a fixed split (a third of the bytes), and the dataset is still that of
    /// one thread. The summary's "MB by rank" adds up to the corpus.
    func testASlowRankTakesLessOfTheCorpus() throws {
        let (d, prepare) = try corpusAndVocabulary("prep-slow-rank")
        let common = prepare + ["--threads", "1"]
        let one = try SiftProcess.run(common + ["--out", d + "/one"], timeout: 600)
        XCTAssertEqual(one.status, 0, one.stderr)
        let out = try SiftProcess.run(
            common + [
                "--out", d + "/slow", "--debug-chunk-bytes", "262144", "--debug-slow-rank", "1",
                "--debug-chunk-delay", "2"
            ], ranks: 3, timeout: 600)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertFalse(out.timedOut)
        let slow = try contents(d + "/slow")
        for (file, bytes) in try contents(d + "/one") {
            XCTAssertTrue(slow[file] == bytes, "\(file) differs from the 1-thread dataset")
        }
        guard let range = out.stdout.range(of: #"\(MB by rank: [0-9.]+, [0-9.]+, [0-9.]+\)"#, options: .regularExpression)
        else { return XCTFail("no MB by rank in the summary: \(out.stdout)") }
        let megabytes = out.stdout[range].dropFirst(13).dropLast().split(separator: ",").map {
            Double($0.trimmingCharacters(in: .whitespaces))!
        }
        var corpusMB = 0.0
        for name in try FileManager.default.contentsOfDirectory(atPath: d + "/corpus") {
            corpusMB += Double(try FileManager.default.attributesOfItem(atPath: d + "/corpus/" + name)[.size] as! Int) / 1e6
        }
        let total = megabytes.reduce(0, +)
        XCTAssertEqual(total, corpusMB, accuracy: 0.2, out.stdout)
        XCTAssertLessThan(megabytes[1], total / 4, "the slow rank took its fixed share or more: \(out.stdout)")
    }

    /// Runs `/usr/bin/TOOL ARGS`; skips the test when the tool is not installed (launch/setup.sh installs both).
    func runTool(_ tool: String, _ args: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/" + tool) else { throw XCTSkip("/usr/bin/\(tool) is missing") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/" + tool)
        process.arguments = args
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(tool) \(args)")
    }

    /// The corpus above compressed file by file with gzip, and with zstd, prepares to the recorded shards of
    /// the plain corpus (each compressed file one unit of work): gzip on 2 threads, zstd on 2 ranks. Its
    /// warnings name the compressed files.
    func testCompressedCorpusGivesTheSameShards() throws {
        let d = temporaryDirectory("prep-compressed")
        try Self.writeCorpus(d + "/plain")
        let vocab = try SiftProcess.run(["vocab", "--corpus", d + "/plain/a.txt", "--size", "300", "--out", d + "/vocab.txt"])
        XCTAssertEqual(vocab.status, 0, vocab.stderr)
        for (tool, suffix, threads, ranks) in [("gzip", ".gz", 2, nil), ("zstd", ".zst", 1, 2)] as [(String, String, Int, Int?)] {
            let corpus = d + "/" + tool
            try FileManager.default.copyItem(atPath: d + "/plain", toPath: corpus)
            for name in try FileManager.default.contentsOfDirectory(atPath: corpus) {
                try runTool(tool, tool == "gzip" ? ["-q", "-n", corpus + "/" + name] : ["-q", "--rm", corpus + "/" + name])
            }
            let out = try SiftProcess.run(
                [
                    "prepare", "--corpus", corpus, "--vocab", d + "/vocab.txt", "--seq-len", "64",
                    "--validation-fraction", "0.05", "--shard-sequences", "20000", "--out", d + "/ds-" + tool,
                    "--threads", "\(threads)"
                ], ranks: ranks, timeout: 600)
            XCTAssertEqual(out.status, 0, "\(tool): \(out.stderr)")
            XCTAssertTrue(
                out.stdout.contains("read 4 files (") && out.stdout.contains(", 4 chunks)"), "\(tool): one chunk per file: \(out.stdout)")
            XCTAssertTrue(out.stderr.contains("b-large.txt\(suffix): replaced 2 invalid UTF-8 sequence(s)"), out.stderr)
            let data = try Data(contentsOf: URL(fileURLWithPath: d + "/ds-" + tool + "/manifest.json"))
            let manifest = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            let shards = ((manifest["trainShards"] as! [[String: Any]]) + (manifest["validationShards"] as! [[String: Any]]))
            let checksums = Dictionary(uniqueKeysWithValues: shards.map { ($0["file"] as! String, $0["fnv1a64"] as! String) })
            XCTAssertEqual(checksums, Self.recordedShards, "\(tool): not the shards of the plain corpus")
        }
    }

    /// A truncated .gz among good files: one error line naming the file and what is wrong, exit status 2, nothing
    /// left in the output's folder; on one process and on 2 ranks.
    func testTruncatedCompressedFileEndsTheRun() throws {
        let d = temporaryDirectory("prep-truncated")
        try Self.writeCorpus(d + "/corpus")
        let vocab = try SiftProcess.run(["vocab", "--corpus", d + "/corpus/a.txt", "--size", "300", "--out", d + "/vocab.txt"])
        XCTAssertEqual(vocab.status, 0, vocab.stderr)
        try runTool("gzip", ["-q", "-n", d + "/corpus/c.txt"])
        let whole = FileManager.default.contents(atPath: d + "/corpus/c.txt.gz")!
        try whole.prefix(whole.count - 10).write(to: URL(fileURLWithPath: d + "/corpus/c.txt.gz"))
        try FileManager.default.createDirectory(atPath: d + "/out", withIntermediateDirectories: true)
        for ranks in [nil, 2] as [Int?] {
            let out = try SiftProcess.run(
                [
                    "prepare", "--corpus", d + "/corpus", "--vocab", d + "/vocab.txt", "--out", d + "/out/ds",
                    "--threads", "2"
                ], ranks: ranks, timeout: 300)
            XCTAssertFalse(out.timedOut)
            XCTAssertEqual(out.status, 2, out.stderr)
            let errors = out.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            XCTAssertEqual(errors.count, 1, out.stderr)
            XCTAssertTrue(
                errors.first?.contains("\(d)/corpus/c.txt.gz: truncated gzip data: the file ends inside a compressed member")
                    ?? false, out.stderr)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: d + "/out"), [], "something was left in the output's folder")
        }
    }

    /// A rank that cannot read its chunk ends the job: one error line naming the rank and the file, exit
    /// status 2 on every rank, and no dataset or temporary directory left behind.
    func testAnErrorOnOneRankEndsEveryRank() throws {
        let d = temporaryDirectory("prep-rank-error")
        try FileManager.default.createDirectory(atPath: d + "/corpus", withIntermediateDirectories: true)
        try Self.writeCorpus(d + "/gen")
        try FileManager.default.copyItem(atPath: d + "/gen/a.txt", toPath: d + "/corpus/a.txt")
        try FileManager.default.copyItem(atPath: d + "/gen/b-large.txt", toPath: d + "/corpus/c.txt")
        // Opens as a regular file and fails to read (EIO): chunk 1, which rank 1 of 2 takes, rank 0's worker
        // waiting a second before each chunk (chunk 0, then the next left).
        try FileManager.default.createSymbolicLink(atPath: d + "/corpus/b.txt", withDestinationPath: "/proc/self/mem")
        let vocab = try SiftProcess.run(["vocab", "--corpus", d + "/gen/a.txt", "--size", "300", "--out", d + "/vocab.txt"])
        XCTAssertEqual(vocab.status, 0, vocab.stderr)
        try FileManager.default.createDirectory(atPath: d + "/out", withIntermediateDirectories: true)
        let out = try SiftProcess.run(
            [
                "prepare", "--corpus", d + "/corpus", "--vocab", d + "/vocab.txt", "--out", d + "/out/ds",
                "--threads", "1", "--debug-slow-rank", "0", "--debug-chunk-delay", "1"
            ], ranks: 2, timeout: 300)
        XCTAssertFalse(out.timedOut, "the job hung after one rank's error")
        XCTAssertEqual(out.status, 2, out.stderr)
        let errors = out.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        XCTAssertEqual(errors, ["error: rank 1: \(d)/corpus/b.txt: cannot read (Input/output error)"], out.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: d + "/out"), [], "something was left in the output's folder")
    }

    /// `--threads 0` is a bad flag, refused before anything is read.
    func testZeroThreadsIsABadFlag() throws {
        let d = temporaryDirectory("prep-threads")
        let out = try SiftProcess.run(["prepare", "--corpus", d, "--vocab", d + "/none.txt", "--out", d + "/ds", "--threads", "0"])
        XCTAssertEqual(out.status, 64, out.stderr)
        XCTAssertTrue(out.stderr.contains("error: --threads must be at least 1 (got 0)"), out.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: d + "/ds"))
    }
}
