import Core
import Data
import Foundation
import XCTest

/// Runs `/usr/bin/TOOL ARGS` (gzip, zstd) and waits; skips the test when the tool is not installed.
func runTool(_ tool: String, _ args: [String]) throws {
    let path = "/usr/bin/" + tool
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw XCTSkip("\(path) is not installed (launch/setup.sh installs it)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = args
    try process.run()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, "\(tool) \(args)")
}

/// Compressed corpora, directories and JSON Lines fields: the inputs users bring.
final class CorpusInputTests: XCTestCase {
    /// Every file of a dataset directory, by name.
    func contents(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            out[name] = FileManager.default.contents(atPath: dir + "/" + name)
        }
        return out
    }

    func prepare(
        _ corpus: [String], vocab: String, threads: Int, format: CorpusFormat? = nil,
        textField: String = "text", warnings: ((String) -> Void)? = nil
    ) throws -> (manifest: DatasetManifest, out: String) {
        let out = makeTempDirectory("input") + "/ds"
        let manifest = try DatasetPreparer.prepare(
            .init(
                corpus: corpus, vocabPath: vocab, seqLen: 16, outDirectory: out, validationFraction: 0.1, seed: 5,
                sequencesPerShard: 50, format: format, textField: textField, threads: threads, chunkBytes: 4096),
            warn: warnings ?? { _ in })
        return (manifest, out)
    }

    /// A corpus with a 1.3 MiB line (the reader cuts it into pieces at read-buffer boundaries) and documents
    /// across several files; its gzip and zstd copies (one with two gzip members, one with two zstd frames)
    /// prepare to the same files, byte for byte, at 1 and 3 threads.
    func testCompressedCopiesPrepareToTheSameDataset() throws {
        let corpus = GeneratedCorpus(documentCount: 90)
        // Words that compress poorly: the compressed file is several input buffers long, so a decompressing read
        // that returned less than asked would cut the long line elsewhere.
        var rng = SplitMix(seed: 3)
        let long = (0..<150_000).map { _ in "k\(rng.next() % 1_000_000) " }.joined()
        writeFile(corpus.directory + "/sub/long.txt", "head line\n" + long + "\nend line\n")
        let vocab = try learnVocabulary(corpus)
        let plain = try contents(try prepare([corpus.directory], vocab: vocab, threads: 1).out)
        for tool in ["gzip", "zstd"] {
            let copy = makeTempDirectory("compressed-" + tool)
            let files = try CorpusReader.corpusFiles([corpus.directory])
            for file in files {
                let target = copy + "/" + String(file.dropFirst(corpus.directory.count + 1)) + (tool == "gzip" ? ".gz" : ".zst")
                try FileManager.default.createDirectory(
                    atPath: (target as NSString).deletingLastPathComponent,
                    withIntermediateDirectories: true)
                if file.hasSuffix("b.txt") {
                    // Two members/frames: the file's halves compressed apart and concatenated.
                    let bytes = [UInt8](FileManager.default.contents(atPath: file)!)
                    let half = bytes.count / 2
                    let scratch = makeTempDirectory("halves")
                    writeBytes(scratch + "/h1", Array(bytes[..<half]))
                    writeBytes(scratch + "/h2", Array(bytes[half...]))
                    try runTool(tool, ["-q", "-f", scratch + "/h1", scratch + "/h2"])
                    let suffix = tool == "gzip" ? ".gz" : ".zst"
                    let joined =
                        FileManager.default.contents(atPath: scratch + "/h1" + suffix)!
                        + FileManager.default.contents(atPath: scratch + "/h2" + suffix)!
                    _ = FileManager.default.createFile(atPath: target, contents: joined)
                } else {
                    // The tools replace FILE with FILE.gz or FILE.zst.
                    let uncompressed = String(target.dropLast(tool == "gzip" ? 3 : 4))
                    try FileManager.default.copyItem(atPath: file, toPath: uncompressed)
                    try runTool(tool, tool == "gzip" ? ["-q", "-n", uncompressed] : ["-q", "--rm", uncompressed])
                }
            }
            let compressed = try CorpusReader.corpusFiles([copy])
            XCTAssertEqual(compressed.count, files.count, "\(compressed)")
            XCTAssertTrue(compressed.allSatisfy { $0.hasSuffix(tool == "gzip" ? ".gz" : ".zst") }, "\(compressed)")
            for threads in [1, 3] {
                let got = try contents(try prepare([copy], vocab: vocab, threads: threads).out)
                XCTAssertEqual(Set(got.keys), Set(plain.keys), "\(tool), \(threads) threads")
                for (name, bytes) in plain { XCTAssertEqual(got[name], bytes, "\(tool), \(threads) threads: \(name) differs") }
            }
            let plan = try CorpusPlan(paths: [copy], format: nil, chunkBytes: 4096)
            XCTAssertEqual(plan.chunks.count, plan.files.count, "a compressed file is one chunk")
        }
    }

    /// A truncated or corrupt .gz or .zst fails with one error naming the file and what is wrong, and leaves
    /// no dataset (nor a temporary directory) behind.
    func testTruncatedAndCorruptCompressedFilesFail() throws {
        let corpus = GeneratedCorpus(documentCount: 400)
        let vocab = try learnVocabulary(corpus)
        var text = ""
        for file in try CorpusReader.corpusFiles([corpus.directory]) { text += try String(contentsOfFile: file, encoding: .utf8) }
        let source = makeTempDirectory("source") + "/all.txt"
        writeFile(source, String(repeating: text, count: 5))
        try runTool("gzip", ["-q", "-k", "-n", source])
        try runTool("zstd", ["-q", "-k", source])
        let gz = [UInt8](FileManager.default.contents(atPath: source + ".gz")!)
        let zst = [UInt8](FileManager.default.contents(atPath: source + ".zst")!)
        func flipped(_ bytes: [UInt8], at index: Int) -> [UInt8] {
            var b = bytes
            b[index] ^= 0xFF
            return b
        }
        let cases: [(name: String, bytes: [UInt8], message: String)] = [
            ("cut.txt.gz", Array(gz.prefix(gz.count / 2)), "truncated gzip data: the file ends inside a compressed member"),
            ("crc.txt.gz", flipped(gz, at: gz.count - 6), "not valid gzip data (incorrect data check)"),
            ("plain.txt.gz", Array(text.utf8), "not valid gzip data (incorrect header check)"),
            ("cut.txt.zst", Array(zst.prefix(zst.count / 2)), "truncated zstd data: the file ends inside a frame"),
            ("bad.txt.zst", flipped(zst, at: 2), "not valid zstd data (Unknown frame descriptor)")
        ]
        for c in cases {
            let dir = makeTempDirectory("bad-input")
            writeFile(dir + "/a.txt", text)
            writeBytes(dir + "/" + c.name, c.bytes)
            let parent = makeTempDirectory("bad-out")
            let out = parent + "/ds"
            for threads in [1, 2] {
                XCTAssertThrowsError(
                    try DatasetPreparer.prepare(
                        .init(corpus: [dir], vocabPath: vocab, seqLen: 16, outDirectory: out, threads: threads), warn: { _ in })
                ) { error in
                    guard case DataError.corruptInput(let path, let reason) = error else { return XCTFail("\(c.name): \(error)") }
                    XCTAssertEqual(path, dir + "/" + c.name)
                    XCTAssertTrue(reason.hasPrefix(c.message), "\(c.name): \(reason)")
                    XCTAssertFalse(DatasetPreparer.isFailure(error), "bad input, exit 2")
                }
                XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent), [], "\(c.name): nothing left behind")
            }
        }
    }

    /// A directory stands for its regular files, recursively, hidden names skipped, sorted by path bytes
    /// ("a.txt" before "a/…" since '.' < '/'; "Z" before "a" before "é"); a link to a directory and a pipe are
    /// left out, a link to a file is read; a hidden file named on its own is read.
    func testDirectoryOrder() throws {
        let dir = makeTempDirectory("order")
        let fm = FileManager.default
        for sub in ["a", ".hidden", "b"] { try fm.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        for name in ["a.txt", "a/x.txt", "Z.txt", "é.txt", "e.txt", ".dot.txt", ".hidden/in.txt", "b/.git-like", "b/y.txt"] {
            writeFile(dir + "/" + name, "text of \(name)\n")
        }
        try fm.createSymbolicLink(atPath: dir + "/b/link-to-a", withDestinationPath: dir + "/a")
        try fm.createSymbolicLink(atPath: dir + "/b/link.txt", withDestinationPath: dir + "/e.txt")
        XCTAssertEqual(mkfifo(dir + "/pipe", 0o600), 0)
        let files = try CorpusReader.corpusFiles([dir, dir + "/.dot.txt"]).map { String($0.dropFirst(dir.count + 1)) }
        XCTAssertEqual(files, ["Z.txt", "a.txt", "a/x.txt", "b/link.txt", "b/y.txt", "e.txt", "é.txt", ".dot.txt"])
        XCTAssertThrowsError(try CorpusReader.corpusFiles([dir + "/missing"])) { error in
            XCTAssertEqual(error as? DataError, .fileNotFound(path: dir + "/missing"))
        }
    }

    /// `--text-field` reads another field; records without it are counted in the manifest and named by line,
    /// one warning each up to 20, then one count line.
    func testTextFieldAndSkippedRecords() throws {
        let dir = makeTempDirectory("jsonl")
        var lines: [String] = []
        for i in 0..<60 { lines.append("{\"content\": \"kalo mine\(i) ruta\", \"text\": 5}") }
        for i in stride(from: 3, to: 60, by: 2) { lines[i] = i % 4 == 1 ? "{\"content\": 7}" : "{broken \(i)" }
        writeFile(dir + "/a.jsonl", lines.joined(separator: "\n") + "\n")
        try runTool("zstd", ["-q", "--rm", dir + "/a.jsonl"])
        let vocab = referenceVocabularyPath()
        var warnings: [String] = []
        let run = try prepare([dir], vocab: vocab, threads: 2, textField: "content", warnings: { warnings.append($0) })
        let file = dir + "/a.jsonl.zst"
        XCTAssertEqual(run.manifest.corpusFormat, "jsonl", "auto looks through .zst")
        XCTAssertEqual(run.manifest.skippedRecords, 29)
        XCTAssertEqual(run.manifest.textField, "content")
        XCTAssertEqual(run.manifest.documents, 31)
        XCTAssertEqual(warnings.count, 21, warnings.joined(separator: "\n"))
        XCTAssertEqual(warnings.first, "warning: \(file):4: not a JSON object; record skipped")
        XCTAssertEqual(warnings[1], "warning: \(file):6: no string \"content\" field; record skipped")
        XCTAssertEqual(warnings[19], "warning: \(file):42: no string \"content\" field; record skipped")
        XCTAssertEqual(
            warnings.last,
            "warning: skipped 29 JSON Lines record(s): 15 not a JSON object, 14 without a string "
                + "\"content\" field (the first 20 named above)")
        // The default field, "text", is a number in every record here: nothing usable.
        XCTAssertThrowsError(try prepare([dir], vocab: vocab, threads: 1)) { error in
            guard case DataError.noUsableText = error else { return XCTFail("\(error)") }
        }
        // A manifest written before the field existed still reads.
        let data = try Data(contentsOf: URL(fileURLWithPath: run.out + "/manifest.json"))
        var object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        object["skippedRecords"] = nil
        object["textField"] = nil
        let old = try JSONDecoder().decode(DatasetManifest.self, from: try JSONSerialization.data(withJSONObject: object))
        XCTAssertNil(old.skippedRecords)
    }
}
