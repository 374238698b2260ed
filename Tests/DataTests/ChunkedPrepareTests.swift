import Core
import Data
import Foundation
import XCTest

/// Chunks read and tokenized apart give the documents of one reader going through the corpus whole.
final class ChunkedPrepareTests: XCTestCase {
    /// Documents (with at least one token) of one sequential pass: reader, format filter, tokenizer.
    func sequentialDocuments(_ paths: [String], format: CorpusFormat, tokenizer: BertTokenizer) throws -> [[Int32]] {
        var reader = try CorpusReader(paths: paths, warn: { _ in })
        var filter = CorpusFilter(format: format)
        var docs: [[Int32]] = [], current: [Int32] = []
        try reader.read { raw in
            filter.process(raw) { event in
                switch event {
                case .text(let t): tokenizer.encode(t, appendingTo: &current)
                case .endOfDocument:
                    if !current.isEmpty { docs.append(current) }
                    current = []
                }
            }
        }
        return docs
    }

    func prepared(_ paths: [String], vocab: String, format: CorpusFormat, threads: Int, chunkBytes: Int) throws -> [[Int32]] {
        let out = makeTempDirectory("chunked") + "/ds"
        try DatasetPreparer.prepare(
            .init(
                corpus: paths, vocabPath: vocab, seqLen: 16, outDirectory: out, validationFraction: 0,
                format: format, threads: threads, chunkBytes: chunkBytes), warn: { _ in })
        return unpackDocuments(try ShardedDataset(directory: out), .train, vocab: try Vocabulary(path: vocab))
    }

    /// Chunks of 700 bytes cut the text files mid-document and mid-paragraph: 1, 2 and 3 threads give the
    /// documents of the sequential pass.
    func testSmallChunksGiveTheSequentialDocuments() throws {
        let corpus = GeneratedCorpus(documentCount: 60)
        // One file without blank lines between some documents, so that cuts fall inside documents.
        let joined = corpus.documents.prefix(20).joined(separator: "\n") + "\n\n" + corpus.documents[20...].joined(separator: "\n\n") + "\n"
        writeFile(corpus.directory + "/sub/big.txt", joined)
        let vocabPath = try learnVocabulary(corpus)
        let tokenizer = BertTokenizer(vocabulary: try Vocabulary(path: vocabPath), cased: false)
        let expected = try sequentialDocuments([corpus.directory], format: .text, tokenizer: tokenizer)
        for threads in [1, 2, 3] {
            let docs = try prepared([corpus.directory], vocab: vocabPath, format: .text, threads: threads, chunkBytes: 700)
            XCTAssertEqual(docs, expected, "\(threads) thread(s)")
        }
        let plan = try CorpusPlan(paths: [corpus.directory], format: .text, chunkBytes: 700)
        XCTAssertGreaterThan(plan.chunks.count, plan.files.count + 5, "files were cut into byte ranges")
        XCTAssertTrue(plan.chunks.contains { $0.startsInDocument }, "a cut inside a document")
    }

    /// A reStructuredText file that ends inside a comment block drops the next file's indented first lines
    /// (the state crosses files): a chunk tokenized from a fresh state is tokenized again from the real one.
    func testReStructuredTextStateCrossesFiles() throws {
        let dir = makeTempDirectory("rst-carry")
        writeFile(dir + "/a.rst", "Title\n=====\n\nFirst paragraph of text.\n\n.. _target:\n")
        writeFile(dir + "/b.rst", "   indented words dropped\n   still dropped\n\nSecond paragraph here.\n")
        writeFile(dir + "/c.rst", "Third file text.\n")
        let vocabPath = referenceVocabularyPath()
        let tokenizer = BertTokenizer(vocabulary: try Vocabulary(path: vocabPath), cased: false)
        let expected = try sequentialDocuments([dir], format: .rst, tokenizer: tokenizer)
        XCTAssertEqual(expected.count, 4, "title, first paragraph, second paragraph, third file: the indented lines are dropped")
        for threads in [1, 3] {
            XCTAssertEqual(try prepared([dir], vocab: vocabPath, format: .rst, threads: threads, chunkBytes: 1 << 20), expected)
        }
    }
}
