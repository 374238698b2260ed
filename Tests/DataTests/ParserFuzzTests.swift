import Data
import Foundation
import SiftTestSupport
import XCTest

/// Seeded mutation fuzzers for the data-side parsers (docs/RELIABILITY.md, "Fuzzed parsers"): every
/// mutated input must end in a thrown error or a valid result — never a trap (which would end the test
/// process), a hang, or an allocation sized from an untrusted number. Each test also checks that the
/// mutations both break and keep inputs (so the fuzzer reaches the parser's accepting paths too).
final class DataParserFuzzTests: XCTestCase {
    static let vocabularyCases = 3000, manifestCases = 1500, shardCases = 300, premaskedCases = 2000, corpusCases = 1000

    /// A small valid vocabulary: the five specials and 60 pieces.
    static let vocabulary: [UInt8] =
        Array(
            (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
                + (0..<30).map { "w\($0)" } + (0..<30).map { "##s\($0)" }).joined(separator: "\n").utf8) + [0x0A]

    func testVocabularyFuzz() {
        var m = Mutator(seed: 11)
        let (accepted, refused) = m.run(Self.vocabulary, cases: Self.vocabularyCases, naming: "fuzz.txt", problem: { XCTFail($0) }) {
            let vocabulary = try Vocabulary(bytes: $0, path: "fuzz.txt")
            XCTAssertGreaterThanOrEqual(vocabulary.count, 5)
        }
        XCTAssertGreaterThan(accepted, 100)
        XCTAssertGreaterThan(refused, 100)
    }

    /// A prepared dataset (two shards per split) whose manifest or shard bytes the cases mutate.
    func preparedDataset() throws -> (dir: String, vocab: String) {
        let corpus = makeTempDirectory(), outer = makeTempDirectory(), out = outer + "/ds"
        addTeardownBlock {
            try? FileManager.default.removeItem(atPath: corpus)
            try? FileManager.default.removeItem(atPath: outer)
        }
        let vocab = outer + "/vocab.txt"
        writeBytes(vocab, Self.vocabulary)
        for d in 0..<12 { writeFile(corpus + "/doc\(d).txt", (0..<40).map { "w\(($0 * 7 + d) % 30)" }.joined(separator: " ") + "\n") }
        _ = try DatasetPreparer.prepare(
            .init(
                corpus: [corpus], vocabPath: vocab, seqLen: 16, outDirectory: out,
                validationFraction: 0.3, sequencesPerShard: 8), warn: { _ in })
        return (out, vocab)
    }

    /// Opens the dataset and reads every sequence, as training would.
    func openAndRead(_ dir: String) throws {
        let d = try ShardedDataset(directory: dir)
        try d.verify()
        var row = [Int32](repeating: 0, count: d.seqLen)
        for split in DatasetSplit.allCases {
            for i in 0..<d.count(split) { row.withUnsafeMutableBufferPointer { d.copySequence(split, index: i, into: $0.baseAddress!) } }
        }
    }

    func testManifestFuzz() throws {
        let (dir, _) = try preparedDataset()
        let manifestPath = dir + "/" + DatasetManifest.fileName
        let original = [UInt8](FileManager.default.contents(atPath: manifestPath)!)
        try openAndRead(dir)
        var m = Mutator(seed: 12)
        var accepted = 0, refused = 0
        for _ in 0..<Self.manifestCases {
            writeBytes(manifestPath, m.mutate(original))
            do {
                try openAndRead(dir)
                accepted += 1
            } catch { refused += 1 }
        }
        writeBytes(manifestPath, original)
        XCTAssertGreaterThan(accepted, 20)
        XCTAssertGreaterThan(refused, 500)
    }

    func testShardFuzz() throws {
        let (dir, _) = try preparedDataset()
        let shard = try XCTUnwrap(
            try FileManager.default.contentsOfDirectory(atPath: dir).sorted().first { $0.hasPrefix("train-") && $0.hasSuffix(".bin") })
        let original = [UInt8](FileManager.default.contents(atPath: dir + "/" + shard)!)
        var m = Mutator(seed: 13)
        var refused = 0, changed = 0
        for _ in 0..<Self.shardCases {
            let bytes = m.mutate(original)
            if bytes != original { changed += 1 }
            writeBytes(dir + "/" + shard, bytes)
            do {
                try openAndRead(dir)
                XCTAssertEqual(bytes, original, "a changed shard passed its checksum")
            } catch { refused += 1 }
        }
        XCTAssertEqual(refused, changed, "every changed shard is refused, every unchanged one accepted")
        XCTAssertGreaterThan(changed, Self.shardCases / 2)
    }

    func testPremaskedJSONLinesFuzz() throws {
        let dir = makeTempDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let valid = Array(
            ("""
            {"input_ids": [2, 10, 4, 12, 3], "labels": [-100, -100, 11, -100, -100], "attention_mask": [1, 1, 1, 1, 1]}
            {"input_ids": [2, 4, 20, 3], "labels": [-100, 30, -100, -100], "token_type_ids": [0, 0, 0, 0]}

            {"input_ids": [2, 5, 6, 7, 4, 3, 0], "labels": [-100, -100, -100, -100, 8, -100, -100], "attention_mask": [1, 1, 1, 1, 1, 1, 0]}
            """ + "\n").utf8)
        let path = dir + "/s.jsonl"
        writeBytes(path, valid)
        XCTAssertEqual(try PremaskedSamples(path: path, vocabSize: 65, padId: 0).count, 3)
        var m = Mutator(seed: 14)
        let (accepted, refused) = m.run(valid, cases: Self.premaskedCases, naming: "s.jsonl", problem: { XCTFail($0) }) { bytes in
            writeBytes(path, bytes)
            let s = try PremaskedSamples(path: path, vocabSize: 65, padId: 0)
            var ids = [Int32](repeating: 0, count: s.seqLen), types = ids, mask = ids, labels = ids
            for i in 0..<s.count { s.fill(index: i, epoch: 0, inputIds: &ids, tokenTypeIds: &types, attentionMask: &mask, labels: &labels) }
            XCTAssertTrue(ids.allSatisfy { $0 >= 0 && $0 < 65 })
        }
        XCTAssertGreaterThan(accepted, 20)
        XCTAssertGreaterThan(refused, 500)
    }

    func testCorpusReaderFuzz() throws {
        let dir = makeTempDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let valid = Array("First paragraph, with ünïcödé and 数字.\nSecond line\n\n  \nNext document ends here".utf8)
        var m = Mutator(seed: 15)
        for _ in 0..<Self.corpusCases {
            let bytes = m.mutate(valid)
            writeBytes(dir + "/c.txt", bytes)
            var reader = try CorpusReader(paths: [dir], warn: { _ in })
            var text = 0
            try reader.read { if case .text(let t) = $0 { text += t.utf8.count } }
            // Nothing is invented: every byte read comes from the file (invalid sequences become U+FFFD, 3 bytes each).
            XCTAssertLessThanOrEqual(text, 3 * bytes.count)
        }
    }
}
