import Core
import Data
import Foundation
import XCTest

/// A generated corpus: documents made of words unique to each document, spread over files.
struct GeneratedCorpus {
    let directory: String
    /// Document texts in corpus reading order (files sorted by path, blank-line separated).
    let documents: [String]

    init(documentCount: Int = 23, seed: UInt64 = 7) {
        directory = makeTempDirectory("corpus")
        try! FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: true)
        var rng = SplitMix(seed: seed)
        let syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "zo", "pe", "qu", "ix"]
        var docs: [String] = []
        for d in 0..<documentCount {
            var lines: [String] = []
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                var words: [String] = []
                for _ in 0..<(1 + Int(rng.next() % 12)) {
                    let word = (0..<(1 + Int(rng.next() % 3))).map { _ in syllables[Int(rng.next() % 10)] }.joined()
                    words.append(word + "\(d)")
                }
                lines.append(words.joined(separator: rng.next() % 5 == 0 ? ", " : " ") + (rng.next() % 2 == 0 ? "." : ""))
            }
            docs.append(lines.joined(separator: "\n"))
        }
        // files: a.txt, b.txt, sub/c.txt get a third of the documents each ("a" < "b" < "sub/c").
        let cuts = [0, documentCount / 3, 2 * documentCount / 3, documentCount]
        let names = ["a.txt", "b.txt", "sub/c.txt"]
        for f in 0..<3 {
            let text = docs[cuts[f]..<cuts[f + 1]].joined(separator: "\n\n  \n") + "\n"
            writeFile(directory + "/" + names[f], text)
        }
        documents = docs
    }
}

/// Reads every sequence of a split and returns the token stream of each document in it
/// (packing undone: [CLS], closing [SEP] and [PAD] removed, split at separator [SEP]).
func unpackDocuments(
    _ dataset: ShardedDataset, _ split: DatasetSplit, vocab: Vocabulary,
    file: StaticString = #filePath, line: UInt = #line
) -> [[Int32]] {
    let n = dataset.seqLen
    let buffer = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    defer { buffer.deallocate() }
    var stream: [Int32] = []
    for i in 0..<dataset.count(split) {
        dataset.copySequence(split, index: i, into: buffer)
        let seq = Array(UnsafeBufferPointer(start: buffer, count: n))
        XCTAssertEqual(seq[0], vocab.clsId, file: file, line: line)
        var end = n
        while end > 0 && seq[end - 1] == vocab.padId { end -= 1 }
        if i < dataset.count(split) - 1 { XCTAssertEqual(end, n, "only the last sequence may be padded", file: file, line: line) }
        XCTAssertEqual(seq[end - 1], vocab.sepId, file: file, line: line)
        stream += seq[1..<(end - 1)]
    }
    if stream.isEmpty { return [] }
    return stream.split(separator: vocab.sepId, omittingEmptySubsequences: false).map(Array.init)
}

func learnVocabulary(_ corpus: GeneratedCorpus, size: Int = 300) throws -> String {
    var reader = try CorpusReader(paths: [corpus.directory], warn: { _ in })
    var builder = VocabularyBuilder(cased: false)
    let basic = BasicTokenizer(cased: false)
    try reader.read { if case .text(let t) = $0 { builder.count(text: t, using: basic) } }
    let tokens = try builder.learn(size: size)
    let path = makeTempDirectory("vocab") + "/vocab.txt"
    try DurableFile.write([UInt8]((tokens.joined(separator: "\n") + "\n").utf8), to: path)
    return path
}

final class PrepareTests: XCTestCase {
    func testPrepareKeepsEveryTokenOnceInOrderAndSplitsByDocument() throws {
        let corpus = GeneratedCorpus()
        let vocabPath = try learnVocabulary(corpus)
        let vocab = try Vocabulary(path: vocabPath)
        let out = makeTempDirectory("out") + "/dataset"
        let manifest = try DatasetPreparer.prepare(
            .init(
                corpus: [corpus.directory], vocabPath: vocabPath, seqLen: 16, outDirectory: out,
                validationFraction: 0.2, seed: 3, sequencesPerShard: 4), warn: { XCTFail("unexpected warning \($0)") })
        let tokenizer = BertTokenizer(vocabulary: vocab, cased: false)
        let expectedDocs = corpus.documents.map { tokenizer.encode($0) }
        XCTAssertFalse(expectedDocs.contains { $0.contains(vocab.unkId) }, "learned vocab covers its corpus")

        let dataset = try ShardedDataset(directory: out)
        try dataset.verify()
        XCTAssertEqual(dataset.vocabHash, vocab.hash)
        XCTAssertEqual(dataset.vocabSize, vocab.count)
        let train = unpackDocuments(dataset, .train, vocab: vocab)
        let validation = unpackDocuments(dataset, .validation, vocab: vocab)
        XCTAssertGreaterThanOrEqual(validation.count, 1)
        XCTAssertGreaterThanOrEqual(train.count, 1)
        // Every document appears whole, in order, in exactly one split.
        var t = 0, v = 0
        for doc in expectedDocs {
            if t < train.count && train[t] == doc {
                t += 1
            } else if v < validation.count && validation[v] == doc {
                v += 1
            } else {
                XCTFail("document \(doc) not found whole at the next position of either split")
                return
            }
        }
        XCTAssertEqual(t, train.count)
        XCTAssertEqual(v, validation.count)
        XCTAssertEqual(manifest.documents, corpus.documents.count)
        XCTAssertEqual(manifest.validationDocuments, validation.count)
        XCTAssertEqual(manifest.tokens, expectedDocs.map(\.count).reduce(0, +))
        XCTAssertEqual(manifest.trainSequences, dataset.count(.train))
        XCTAssertGreaterThan(manifest.trainShards.count, 1, "several shards of 4 sequences")
        XCTAssertEqual(manifest.tokenDtype, "uint16")
    }

    func testAtLeastOneValidationDocumentEvenWithTinyFraction() throws {
        let corpus = GeneratedCorpus(documentCount: 3)
        let vocabPath = try learnVocabulary(corpus, size: 100)
        let out = makeTempDirectory("out") + "/ds"
        let m = try DatasetPreparer.prepare(
            .init(
                corpus: [corpus.directory], vocabPath: vocabPath, seqLen: 8,
                outDirectory: out, validationFraction: 1e-9), warn: { _ in })
        XCTAssertEqual(m.validationDocuments, 1)
        XCTAssertEqual(m.trainDocuments, 2)
    }

    func testChecksumAndSizeValidation() throws {
        let corpus = GeneratedCorpus()
        let vocabPath = try learnVocabulary(corpus)
        let out = makeTempDirectory("out") + "/ds"
        let m = try DatasetPreparer.prepare(
            .init(
                corpus: [corpus.directory], vocabPath: vocabPath, seqLen: 16,
                outDirectory: out, validationFraction: 0.2), warn: { _ in })
        let shard = out + "/" + m.trainShards[0].file
        var bytes = [UInt8](FileManager.default.contents(atPath: shard)!)
        bytes[5] ^= 0x01
        writeBytes(shard, bytes)
        let opened = try ShardedDataset(directory: out)
        XCTAssertThrowsError(try opened.verify()) { error in
            guard case DataError.checksumMismatch = error else { return XCTFail("\(error)") }
        }
        writeBytes(shard, Array(bytes.dropLast(2)))
        XCTAssertThrowsError(try ShardedDataset(directory: out)) { error in
            guard case DataError.shardSizeMismatch = error else { return XCTFail("\(error)") }
        }
    }

    func testVocabularyLearnerProducesLoadableVocabulary() throws {
        let corpus = GeneratedCorpus()
        let path = try learnVocabulary(corpus, size: 120)
        let vocab = try Vocabulary(path: path)
        XCTAssertLessThanOrEqual(vocab.count, 120)
        XCTAssertEqual(Array(vocab.tokens.prefix(5)), Vocabulary.specialTokenNames)
        XCTAssertTrue(vocab.tokens.contains("##a") || vocab.tokens.contains("a"))
        // A word repeated very often becomes one piece.
        let dir = makeTempDirectory("rep")
        writeFile(dir + "/t.txt", String(repeating: "supercalifragilistic tiny words ", count: 500))
        var reader = try CorpusReader(paths: [dir], warn: { _ in })
        var builder = VocabularyBuilder(cased: false)
        try reader.read { if case .text(let t) = $0 { builder.count(text: t, using: BasicTokenizer(cased: false)) } }
        let tokens = try builder.learn(size: 200)
        XCTAssertTrue(tokens.contains("supercalifragilistic"))
        XCTAssertEqual(Set(tokens).count, tokens.count, "no duplicates")
    }

    func testLargeVocabularyUsesUInt32Shards() throws {
        let dir = makeTempDirectory("big")
        // filler tokens first so that real tokens get ids above 65535
        let tokens = (0..<70_000).map { "filler\($0)" } + HFReference.vocabTokens
        let vocabPath = dir + "/vocab.txt"
        writeFile(vocabPath, tokens.joined(separator: "\n") + "\n")
        writeFile(dir + "/corpus.txt", "hello world, running\n\nunaffable cafe\n")
        let vocab = try Vocabulary(path: vocabPath)
        let out = dir + "/ds"
        let m = try DatasetPreparer.prepare(
            .init(
                corpus: [dir + "/corpus.txt"], vocabPath: vocabPath, seqLen: 8,
                outDirectory: out, validationFraction: 0.5), warn: { _ in })
        XCTAssertEqual(m.tokenDtype, "uint32")
        let dataset = try ShardedDataset(directory: out)
        try dataset.verify()
        let tokenizer = BertTokenizer(vocabulary: vocab, cased: false)
        let expected = ["hello world, running", "unaffable cafe"].map { tokenizer.encode($0) }
        XCTAssertTrue(expected.allSatisfy { $0.allSatisfy { $0 > 65535 } })
        let all = unpackDocuments(dataset, .train, vocab: vocab) + unpackDocuments(dataset, .validation, vocab: vocab)
        XCTAssertEqual(
            Set(all.map { $0.map(String.init).joined(separator: ",") }),
            Set(expected.map { $0.map(String.init).joined(separator: ",") }))
    }
}
