import Data
import Foundation
import XCTest

final class BadInputTests: XCTestCase {
    let vocabPath = referenceVocabularyPath()

    func prepare(_ corpus: String, out: String, seqLen: Int = 16, warnings: UnsafeMutablePointer<[String]>? = nil) throws -> DatasetManifest
    {
        try DatasetPreparer.prepare(
            .init(
                corpus: [corpus], vocabPath: vocabPath, seqLen: seqLen, outDirectory: out,
                validationFraction: 0.5), warn: { warnings?.pointee.append($0) })
    }

    func testEmptyCorpusIsAnError() throws {
        let dir = makeTempDirectory()
        writeFile(dir + "/empty.txt", "")
        writeFile(dir + "/blank.txt", "\n \n\t\n")
        XCTAssertThrowsError(try prepare(dir, out: makeTempDirectory() + "/ds")) { error in
            guard case DataError.noUsableText = error else { return XCTFail("\(error)") }
        }
        let onlyControl = makeTempDirectory()
        writeFile(onlyControl + "/c.txt", "\u{7}\u{200B}\n")
        XCTAssertThrowsError(try prepare(onlyControl, out: makeTempDirectory() + "/ds")) { error in
            guard case DataError.noUsableText = error else { return XCTFail("\(error)") }
        }
    }

    func testBinaryFileSkippedWithWarning() throws {
        let dir = makeTempDirectory()
        writeBytes(dir + "/blob.bin", [0x7F, 0x45, 0x4C, 0x46, 0, 0, 1, 2] + Array("hello".utf8))
        writeFile(dir + "/text.txt", "hello world\n")
        var warnings: [String] = []
        let m = try prepare(dir, out: makeTempDirectory() + "/ds", warnings: &warnings)
        XCTAssertEqual(m.skippedBinaryFiles, 1)
        XCTAssertEqual(m.tokens, 2)
        XCTAssertTrue(warnings.contains { $0.contains("blob.bin") && $0.contains("binary") }, "\(warnings)")
    }

    func testInvalidUTF8CountedAndReplaced() throws {
        let dir = makeTempDirectory()
        // Three invalid sequences: a lone 0xFF, a lone continuation byte, a truncated 2-byte lead at the end.
        writeBytes(dir + "/bad.txt", Array("hello".utf8) + [0xFF] + Array(" world".utf8) + [0x80] + Array(" x".utf8) + [0xC3])
        var warnings: [String] = []
        let m = try prepare(dir, out: makeTempDirectory() + "/ds", warnings: &warnings)
        XCTAssertEqual(m.invalidUTF8Sequences, 3)
        XCTAssertTrue(warnings.contains { $0.contains("bad.txt") && $0.contains("3 invalid UTF-8") }, "\(warnings)")
        XCTAssertEqual(m.tokens, 3, "U+FFFD is dropped by text cleaning: hello world x")
    }

    func testExtremelyLongLinesAreStreamed() throws {
        let dir = makeTempDirectory()
        let words = 600_000  // 3.6 MB on one line
        writeFile(dir + "/long.txt", String(repeating: "hello ", count: words))
        writeFile(dir + "/blob.txt", String(repeating: "a", count: 2_500_000))
        let m = try prepare(dir, out: makeTempDirectory() + "/ds", seqLen: 512)
        // the unbroken 2.5 MB word is cut into ≤ 3 parts, each an [UNK]
        XCTAssertGreaterThanOrEqual(m.tokens, words + 1)
        XCTAssertLessThanOrEqual(m.tokens, words + 3)
    }

    /// A 12 MB line (and a 12 MB unbroken word) is read with a line buffer that stays below
    /// 2 × (1 MiB piece + 1 MiB read): memory does not follow the line's length, and every byte arrives.
    func testLongLineMemoryIsBounded() throws {
        let dir = makeTempDirectory()
        writeFile(dir + "/a-long.txt", String(repeating: "hello ", count: 2_000_000))
        writeFile(dir + "/b-blob.txt", String(repeating: "a", count: 12_000_000))
        var reader = try CorpusReader(paths: [dir], warn: { _ in })
        var bytes = 0, pieces = 0
        try reader.read { event in
            if case .text(let t) = event {
                bytes += t.utf8.count
                pieces += 1
            }
        }
        XCTAssertEqual(bytes, 12_000_000 + 12_000_000)
        XCTAssertGreaterThanOrEqual(pieces, 2 * 5, "overlong lines arrive in pieces of at most about 2 MiB")
        XCTAssertGreaterThan(reader.largestLineBuffer, CorpusReader.maxPieceBytes)
        XCTAssertLessThanOrEqual(reader.largestLineBuffer, 2 * (CorpusReader.maxPieceBytes + (1 << 20)))
    }

    func testSequenceLengthBounds() throws {
        let dir = makeTempDirectory()
        writeFile(dir + "/t.txt", "hello world\n")
        for bad in [7, 513, 0] {
            XCTAssertThrowsError(try prepare(dir, out: makeTempDirectory() + "/ds", seqLen: bad)) { error in
                XCTAssertEqual(error as? DataError, .invalidSequenceLength(bad))
            }
        }
    }

    func testVocabularyErrors() throws {
        XCTAssertThrowsError(try Vocabulary(bytes: Array("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n".utf8), path: "v.txt")) { error in
            XCTAssertEqual(error as? DataError, .missingSpecialToken(path: "v.txt", token: "[MASK]"))
            XCTAssertTrue("\(error)".contains("[MASK]"))
        }
        XCTAssertThrowsError(try Vocabulary(bytes: Array("[PAD]\n[UNK]\n[CLS]\nhello\n[SEP]\nhello\n[MASK]\n".utf8), path: "v.txt")) {
            error in
            XCTAssertEqual(error as? DataError, .duplicateVocabularyEntry(path: "v.txt", token: "hello", firstLine: 4, line: 6))
        }
        XCTAssertThrowsError(try Vocabulary(bytes: [], path: "v.txt")) { error in
            XCTAssertEqual(error as? DataError, .emptyVocabulary(path: "v.txt"))
        }
        XCTAssertThrowsError(try Vocabulary(path: "/nonexistent/vocab.txt")) { error in
            XCTAssertEqual(error as? DataError, .fileNotFound(path: "/nonexistent/vocab.txt"))
        }
        // Specials are found by name wherever they are.
        let v = try Vocabulary(bytes: Array("hello\n[MASK]\n[SEP]\n[CLS]\n[UNK]\n[PAD]\n".utf8))
        XCTAssertEqual([v.padId, v.unkId, v.clsId, v.sepId, v.maskId], [5, 4, 3, 2, 1])
    }

    func testExistingDifferentDatasetIsNotDestroyed() throws {
        let dir = makeTempDirectory()
        writeFile(dir + "/t.txt", "hello world\n\nhello again world\n")
        let out = makeTempDirectory() + "/ds"
        _ = try prepare(dir, out: out, seqLen: 16)
        let before = FileManager.default.contents(atPath: out + "/manifest.json")
        XCTAssertThrowsError(try prepare(dir, out: out, seqLen: 32)) { error in
            guard case DataError.outputHoldsDifferentDataset = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(FileManager.default.contents(atPath: out + "/manifest.json"), before)
        XCTAssertNoThrow(try ShardedDataset(directory: out).verify())
        // Same settings: rebuilt and replaced.
        writeFile(dir + "/t.txt", "hello world world\n\nhello again world\n")
        let m = try prepare(dir, out: out, seqLen: 16)
        XCTAssertEqual(m.tokens, 10)  // hello world world | hello a ##g ##a ##i ##n world
        XCTAssertEqual(try ShardedDataset(directory: out).manifest.tokens, 10)
        // A directory that is not a dataset is never replaced.
        let other = makeTempDirectory()
        writeFile(other + "/precious.txt", "keep me")
        XCTAssertThrowsError(try prepare(dir, out: other)) { error in
            guard case DataError.outputNotADataset = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(FileManager.default.contents(atPath: other + "/precious.txt"), Data("keep me".utf8))
        // No temporary directories left behind.
        let parent = (out as NSString).deletingLastPathComponent
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent), ["ds"])
    }

    func testPremaskedSamplesValidation() throws {
        let dir = makeTempDirectory()
        let good = dir + "/good.jsonl"
        writeFile(
            good,
            """
            {"input_ids": [2, 4, 115, 3], "labels": [-100, 116, -100, -100]}

            {"input_ids": [2, 115, 116, 4, 3], "labels": [-100, -100, -100, 84, -100], "attention_mask": [1, 1, 1, 1, 1]}
            """)
        let samples = try PremaskedSamples(path: good, vocabSize: 170, padId: 0)
        XCTAssertEqual(samples.count, 2)
        XCTAssertEqual(samples.seqLen, 5)
        var ids = [Int32](repeating: 9, count: 5), types = ids, mask = ids, labels = ids
        samples.fill(index: 0, epoch: 3, inputIds: &ids, tokenTypeIds: &types, attentionMask: &mask, labels: &labels)
        XCTAssertEqual(ids, [2, 4, 115, 3, 0])
        XCTAssertEqual(labels, [-100, 116, -100, -100, -100])
        XCTAssertEqual(mask, [1, 1, 1, 1, 0])
        XCTAssertEqual(types, [0, 0, 0, 0, 0])

        let cases: [(String, String)] = [
            ("{\"input_ids\": [2, 3], \"labels\": [-100]}", "has 1 entries"),
            ("{\"input_ids\": [2, 999], \"labels\": [-100, -100]}", "outside 0..<170"),
            ("{\"input_ids\": [2, 3], \"labels\": [-100, 500]}", "neither -100"),
            ("{\"input_ids\": [2, 3]}", "missing \"labels\""),
            ("not json", "not a JSON object")
        ]
        for (line, reason) in cases {
            let path = dir + "/bad.jsonl"
            writeFile(path, "{\"input_ids\": [2, 3], \"labels\": [-100, 5]}\n" + line + "\n")
            XCTAssertThrowsError(try PremaskedSamples(path: path, vocabSize: 170, padId: 0)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("bad.jsonl:2:") && text.contains(reason), text)
            }
        }
    }
}
