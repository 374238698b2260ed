import Core
import Data
import Foundation
import XCTest

/// `sift vocab`'s counting on worker threads: exact counts (the sequential reader's) when nothing is pruned,
/// the same counts at any thread count when something is, and how much pruning changes the vocabulary.
final class VocabularyCountingTests: XCTestCase {
    /// The counts of one reader going through the corpus line by line (how `sift vocab` counted before threads).
    func sequentialCounts(_ paths: [String], maxDistinctWords: Int = VocabularyBuilder.defaultMaxDistinctWords) throws
        -> VocabularyBuilder
    {
        var reader = try CorpusReader(paths: paths, warn: { _ in })
        var builder = VocabularyBuilder(cased: false, maxDistinctWords: maxDistinctWords)
        let basic = BasicTokenizer(cased: false)
        try reader.read { if case .text(let t) = $0 { builder.count(text: t, using: basic) } }
        return builder
    }

    func counted(
        _ paths: [String], threads: Int, chunkBytes: Int, maxDistinctWords: Int = VocabularyBuilder.defaultMaxDistinctWords,
        format: CorpusFormat? = nil, textField: String = "text"
    ) throws -> CorpusWordCounter.Report {
        try CorpusWordCounter.count(
            .init(
                corpus: paths, format: format, textField: textField, threads: threads,
                chunkBytes: chunkBytes, maxDistinctWords: maxDistinctWords), warn: { _ in })
    }

    /// Files cut into 700-byte chunks, a 1.5 MiB line, 1–3 threads: the sequential reader's counts and vocabulary.
    func testCountsAreExactAtAnyThreadCount() throws {
        let corpus = GeneratedCorpus(documentCount: 300)
        writeFile(corpus.directory + "/sub/long.txt", (0..<150_000).map { "kalo\($0 % 97) " }.joined() + "\nend\n")
        let exact = try sequentialCounts([corpus.directory])
        let vocabulary = try exact.learn(size: 400)
        for (threads, chunkBytes) in [(1, CorpusPlan.defaultChunkBytes), (1, 700), (2, 700), (3, 4096)] {
            let report = try counted([corpus.directory], threads: threads, chunkBytes: chunkBytes)
            XCTAssertEqual(report.builder.prunes, 0)
            XCTAssertEqual(report.builder.wordCounts, exact.wordCounts, "\(threads) threads, \(chunkBytes)-byte chunks")
            XCTAssertEqual(try report.builder.learn(size: 400), vocabulary, "\(threads) threads, \(chunkBytes)-byte chunks")
            XCTAssertEqual(report.format, .text)
        }
    }

    /// A Zipf-like corpus (about 30,000 distinct words) in tables capped at 20,000, 8,000 and 3,000 words: pruning
    /// happens, the counts are the same at 1, 2 and 3 threads, and the vocabulary learned from them is compared
    /// with the exact one (the shares are printed; docs/DECISIONS.md quotes them).
    func testPruningIsTheSameAtAnyThreadCountAndMeasured() throws {
        let dir = makeTempDirectory("zipf")
        var rng = SplitMix(seed: 11)
        let syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "zo", "pe", "qu", "ix", "bo", "se"]
        let types = (0..<40_000).map { i -> String in
            var n = i + 1, word = ""
            while n > 0 {
                word += syllables[n % syllables.count]
                n /= syllables.count
            }
            return word
        }
        for file in 0..<4 {
            var lines: [String] = []
            for _ in 0..<6_000 {
                // Zipf with exponent 1: index ≈ exp(u · ln 40000).
                let words = (0..<12).map { _ -> String in
                    let u = Double(rng.next() % 1_000_000) / 1_000_000
                    return types[min(types.count - 1, Int(exp(u * log(Double(types.count)))) - 1)]
                }
                lines.append(words.joined(separator: " "))
            }
            writeFile(dir + "/part\(file).txt", lines.joined(separator: "\n") + "\n")
        }
        let exact = try counted([dir], threads: 1, chunkBytes: 16 << 10)
        XCTAssertEqual(exact.builder.prunes, 0)
        let size = 2_000
        let exactVocabulary = try exact.builder.learn(size: size)
        var shares: [Double] = []
        for cap in [20_000, 8_000, 3_000] {
            var first: CorpusWordCounter.Report? = nil
            for threads in [1, 2, 3] {
                let pruned = try counted([dir], threads: threads, chunkBytes: 16 << 10, maxDistinctWords: cap)
                XCTAssertGreaterThan(pruned.builder.prunes, 0, "the table was pruned")
                if let first {
                    XCTAssertEqual(pruned.builder.wordCounts, first.builder.wordCounts, "cap \(cap), \(threads) threads")
                    XCTAssertEqual(pruned.builder.prunedWords, first.builder.prunedWords)
                } else {
                    first = pruned
                }
            }
            let pruned = first!.builder
            let prunedVocabulary = try pruned.learn(size: size)
            let shared = Set(prunedVocabulary).intersection(exactVocabulary).count
            shares.append(Double(shared) / Double(exactVocabulary.count))
            print(
                String(
                    format: "pruning at %d words: %d distinct words exact, %d kept (%d prunes, %d dropped, largest threshold %d); "
                        + "vocabularies of %d share %d tokens (%.1f%%)", cap, exact.builder.wordCounts.count, pruned.wordCounts.count,
                    pruned.prunes, pruned.prunedWords, pruned.pruneThreshold, exactVocabulary.count, shared, 100 * shares.last!))
        }
        XCTAssertGreaterThanOrEqual(shares[0], shares[2], "a larger table changes the vocabulary less")
        XCTAssertLessThan(shares[2], 1.0, "a table of a tenth of the words changes the vocabulary")
    }

    /// JSON Lines (compressed): only the text field is counted, not the keys or other fields; --text-field picks
    /// another field; reStructuredText is counted as it stands unless asked for.
    func testJSONLinesCountTheTextFieldOnly() throws {
        let dir = makeTempDirectory("vocab-jsonl")
        writeFile(
            dir + "/a.jsonl",
            "{\"text\": \"alpha beta\", \"meta\": \"zzz\", \"body\": \"gamma\"}\n{bad\n"
                + "{\"text\": \"beta\", \"body\": \"delta gamma\"}\n")
        try runTool("gzip", ["-q", "-n", dir + "/a.jsonl"])
        let text = try counted([dir], threads: 2, chunkBytes: 1 << 20)
        XCTAssertEqual(text.format, .jsonl)
        XCTAssertEqual(text.builder.wordCounts, ["alpha": 1, "beta": 2])
        XCTAssertEqual(text.skippedRecords, 1)
        let body = try counted([dir], threads: 1, chunkBytes: 1 << 20, textField: "body")
        XCTAssertEqual(body.builder.wordCounts, ["gamma": 2, "delta": 1])
        let rstDir = makeTempDirectory("vocab-rst")
        writeFile(rstDir + "/a.rst", "Title\n=====\n\n.. note:: kept words\n\n   :func:`join` here\n")
        XCTAssertEqual(try counted([rstDir], threads: 1, chunkBytes: 1 << 20).builder.wordCounts, try sequentialCounts([rstDir]).wordCounts)
        XCTAssertNil(try counted([rstDir], threads: 1, chunkBytes: 1 << 20, format: .rst).builder.wordCounts["="])
    }
}
