import Foundation
import SiftTestSupport
import XCTest

/// `sift vocab` reads the inputs `sift prepare` reads (compressed JSON Lines here) on every core, with the same
/// vocabulary at any thread count, and refuses a corrupt compressed file without writing anything.
final class VocabCLITests: XCTestCase {
    func testCompressedJSONLinesOnAnyThreadCount() throws {
        let d = temporaryDirectory("vocab-cli")
        try FileManager.default.createDirectory(atPath: d + "/corpus", withIntermediateDirectories: true)
        try PrepareWorkersTests.writeCorpus(d + "/plain")
        let text = try String(contentsOfFile: d + "/plain/d.txt", encoding: .utf8)
        let records = text.split(separator: "\n").map { line -> String in
            let data = try! JSONSerialization.data(withJSONObject: ["body": String(line), "id": 1])
            return String(decoding: data, as: UTF8.self)
        }
        try (records.joined(separator: "\n") + "\n").write(toFile: d + "/corpus/d.jsonl", atomically: true, encoding: .utf8)
        let zstd = Process()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd") else { throw XCTSkip("/usr/bin/zstd is missing") }
        zstd.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
        zstd.arguments = ["-q", "--rm", d + "/corpus/d.jsonl"]
        try zstd.run()
        zstd.waitUntilExit()
        var vocabularies: [Data] = []
        for threads in [1, 2] {
            let out = try SiftProcess.run([
                "vocab", "--corpus", d + "/corpus", "--text-field", "body", "--size", "300",
                "--out", d + "/v\(threads).txt", "--threads", "\(threads)"
            ])
            XCTAssertEqual(out.status, 0, out.stderr)
            XCTAssertTrue(out.stderr.contains(" MB, 1 chunks, format jsonl) on \(threads) thread(s)"), out.stderr)
            XCTAssertTrue(out.stderr.contains("counts exact (no pruning)"), out.stderr)
            vocabularies.append(try Data(contentsOf: URL(fileURLWithPath: d + "/v\(threads).txt")))
        }
        XCTAssertEqual(vocabularies[0], vocabularies[1])
        // The same text read plain gives the same vocabulary: the JSON around it is not counted.
        let plain = try SiftProcess.run(["vocab", "--corpus", d + "/plain/d.txt", "--size", "300", "--out", d + "/plain.txt"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: d + "/plain.txt")), vocabularies[0])

        let whole = FileManager.default.contents(atPath: d + "/corpus/d.jsonl.zst")!
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: d + "/corpus/d.jsonl.zst"))
        let bad = try SiftProcess.run(["vocab", "--corpus", d + "/corpus", "--size", "300", "--out", d + "/bad.txt"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertEqual(
            bad.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") },
            [
                "error: \(d)/corpus/d.jsonl.zst: truncated zstd data: the file ends inside a frame, after "
                    + "\(whole.count / 2) compressed bytes"
            ], bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: d + "/bad.txt"))
    }
}
