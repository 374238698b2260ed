import Foundation

/// `sift vocab`'s first half: the words of a corpus counted on every core with bounded memory.
///
/// The corpus is planned into chunks as for `sift prepare` (`CorpusPlan`: files, line-aligned byte ranges
/// of large files, a compressed file whole), read by the same reader and format filter. Worker threads
/// count each chunk's words into a table of their own (`ChunkPipeline`); the tables are added to the
/// corpus table in chunk order. When the corpus table holds more than `maxDistinctWords` words, the rare
/// ones are pruned (`VocabularyBuilder.prune`) — between chunks, in chunk order, so the counts and the
/// learned vocabulary are the same whatever the number of threads. When no pruning happens the counts are
/// exact: those of one reader going through the corpus.
public enum CorpusWordCounter {
    /// Inputs of one count.
    public struct Options {
        public var corpus: [String]
        /// How to read the corpus; nil: `jsonl` when most files are JSON Lines, else `text` (reStructuredText
        /// is counted as it stands unless `rst` is asked for, so vocabularies learned before stay the same).
        public var format: CorpusFormat?
        /// The JSON Lines field holding a record's text.
        public var textField: String
        public var cased: Bool
        /// Worker threads (≥ 1).
        public var threads: Int
        /// Target bytes per chunk of a large file; any value gives the same counts when nothing is pruned.
        public var chunkBytes: Int
        /// Most distinct words kept while counting (≥ 2; `VocabularyBuilder.maxDistinctWords`).
        public var maxDistinctWords: Int

        public init(
            corpus: [String], format: CorpusFormat? = nil, textField: String = CorpusFilter.defaultTextField,
            cased: Bool = false, threads: Int = 1, chunkBytes: Int = CorpusPlan.defaultChunkBytes,
            maxDistinctWords: Int = VocabularyBuilder.defaultMaxDistinctWords
        ) {
            self.corpus = corpus
            self.format = format
            self.textField = textField
            self.cased = cased
            self.threads = threads
            self.chunkBytes = chunkBytes
            self.maxDistinctWords = maxDistinctWords
        }
    }

    /// What a count found.
    public struct Report {
        /// The counted words, ready to learn from.
        public var builder: VocabularyBuilder
        public var format: CorpusFormat
        public var files: Int
        public var chunks: Int
        /// Bytes of text read (decompressed; binary files excluded).
        public var bytes: Int
        public var skippedBinaryFiles: Int
        public var skippedRecords: Int
        public var invalidUTF8Sequences: Int
    }

    /// Counts the words of `options.corpus`. `warn` receives one-line warnings, `progress` the progress after
    /// every chunk. Throws `DataError` for bad input (a missing file, a corrupt compressed file).
    public static func count(
        _ options: Options, warn: @escaping (String) -> Void,
        progress: ((CorpusProgress) -> Void)? = nil
    ) throws -> Report {
        guard options.threads >= 1 else { throw DataError.invalidArgument("threads must be at least 1") }
        guard options.chunkBytes >= 1 else { throw DataError.invalidArgument("chunk bytes must be at least 1") }
        guard options.maxDistinctWords >= 2 else {
            throw DataError.invalidArgument("the most distinct words kept must be at least 2 (got \(options.maxDistinctWords))")
        }
        guard !options.textField.isEmpty else { throw DataError.invalidArgument("the JSON Lines text field name is empty") }
        let files = try CorpusReader.corpusFiles(options.corpus)
        let format = options.format ?? (CorpusFormat.detect(files: files) == .jsonl ? .jsonl : .text)
        let plan = try CorpusPlan(paths: files, format: format, textField: options.textField, chunkBytes: options.chunkBytes)
        let basic = BasicTokenizer(cased: options.cased)
        func countChunk(_ index: Int, carry: CorpusFilter.Carry?) throws -> ChunkWords {
            var part = ChunkWords(chunk: index)
            part.startCarry = carry ?? plan.assumedCarry(plan.chunks[index])
            let read = try ChunkTokenizer.read(plan, chunk: index, carry: part.startCarry) { event in
                guard case .text(let text) = event else { return }
                basic.forEachWord(in: text) { part.words[$0, default: 0] += 1 }
            }
            part.endCarry = read.endCarry
            part.counts = read.counts
            return part
        }
        var builder = VocabularyBuilder(cased: options.cased, maxDistinctWords: options.maxDistinctWords)
        let tally = CorpusTally(plan: plan, warn: warn)
        let dealer = ChunkDealer(sizes: plan.chunks.map(\.size))
        let pipeline = ChunkPipeline<ChunkWords>(
            take: { dealer.take(by: 0) }, workers: max(1, min(options.threads, plan.chunks.count)),
            maxBufferedWeight: options.threads
        ) { _ in
            { index, emit in try emit(try countChunk(index, carry: nil)) }
        }
        defer { pipeline.cancel() }
        var carry = CorpusFilter.Carry()
        var bytesDone = 0
        while case .part(var part) = try pipeline.next() {
            if part.startCarry != carry {
                // Read from an assumed filter state the previous chunk did not end in: count it again from the real one.
                part = try countChunk(part.chunk, carry: carry)
            }
            builder.add(part.words)
            carry = part.endCarry
            tally.add(chunk: part.chunk, part.counts)
            bytesDone += plan.chunks[part.chunk].size
            progress?(
                CorpusProgress(
                    bytesDone: bytesDone, totalBytes: plan.totalBytes, chunksDone: part.chunk + 1,
                    chunks: plan.chunks.count))
        }
        tally.finish()
        return Report(
            builder: builder, format: format, files: plan.files.count, chunks: plan.chunks.count, bytes: tally.bytes,
            skippedBinaryFiles: tally.binaryFiles, skippedRecords: tally.skippedRecords,
            invalidUTF8Sequences: tally.invalidUTF8)
    }
}
