import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `sift prepare`: tokenizes a corpus into packed, sharded MLM training data.
///
/// Two streaming passes over the corpus with bounded memory (one line and one sequence at a
/// time): pass 1 only counts documents (so the "at least one validation document" rule can be
/// decided up front), pass 2 tokenizes and writes shards. Output goes to a temporary
/// directory next to the destination, every file is fsynced, and the directory is renamed into
/// place at the end, so an interrupted run never looks complete.
///
/// Existing destination: if it holds a dataset with different settings (seq-len, vocab,
/// casing, seed, validation fraction, shard size) we refuse and leave it untouched; with
/// identical settings the new dataset replaces it (the corpus may have changed), swapped in
/// by renames after the new one is complete. A non-dataset directory is never replaced.
public struct DatasetPreparer {
    /// Inputs of one `prepare` run.
    public struct Options {
        public var corpus: [String]
        public var vocabPath: String
        public var cased: Bool
        public var seqLen: Int
        public var outDirectory: String
        public var validationFraction: Double
        public var seed: UInt64
        public var sequencesPerShard: Int
        /// How to read the corpus; nil picks it from the file names (`CorpusFormat.detect`).
        public var format: CorpusFormat?

        public init(corpus: [String], vocabPath: String, cased: Bool = false, seqLen: Int = 128,
                    outDirectory: String, validationFraction: Double = 0.01, seed: UInt64 = 0,
                    sequencesPerShard: Int = 65536, format: CorpusFormat? = nil) {
            self.format = format
            self.corpus = corpus
            self.vocabPath = vocabPath
            self.cased = cased
            self.seqLen = seqLen
            self.outDirectory = outDirectory
            self.validationFraction = validationFraction
            self.seed = seed
            self.sequencesPerShard = sequencesPerShard
        }
    }

    /// Valid sequence lengths: room for [CLS] + a few tokens + [SEP], at most the model's 512 positions.
    public static let seqLenRange = 8...512

    /// Whether document `index` is held out for validation: a counter hash of (seed, index)
    /// below `fraction`, or the designated fallback document.
    public static func isValidationDocument(_ index: Int, seed: UInt64, fraction: Double, fallback: Int?) -> Bool {
        if index == fallback { return true }
        return CounterHash.unit(CounterHash.hash(seed, UInt64(index), RandomStream.validationSplit.rawValue)) < fraction
    }

    /// The document forced into validation when the hash picks none of `documents` (≥ 2) documents:
    /// the one with the smallest hash. nil when not needed.
    public static func fallbackValidationDocument(documents: Int, seed: UInt64, fraction: Double) -> Int? {
        guard fraction > 0, documents >= 2 else { return nil }
        var best = 0
        var bestValue = 2.0
        for i in 0..<documents {
            let u = CounterHash.unit(CounterHash.hash(seed, UInt64(i), RandomStream.validationSplit.rawValue))
            if u < fraction { return nil }
            if u < bestValue { bestValue = u; best = i }
        }
        return best
    }

    /// Runs the preparation and returns the written manifest. `warn` receives one-line warnings.
    @discardableResult
    public static func prepare(_ options: Options, warn: @escaping (String) -> Void) throws -> DatasetManifest {
        guard seqLenRange.contains(options.seqLen) else { throw DataError.invalidSequenceLength(options.seqLen) }
        guard options.validationFraction >= 0 && options.validationFraction < 1 else {
            throw DataError.invalidArgument("validation fraction \(options.validationFraction) must be in [0, 1)")
        }
        guard options.sequencesPerShard >= 1 else {
            throw DataError.invalidArgument("sequences per shard must be at least 1")
        }
        let vocab = try Vocabulary(path: options.vocabPath)
        let tokenizer = BertTokenizer(vocabulary: vocab, cased: options.cased)
        let tokenBytes = vocab.count <= 65535 ? 2 : 4

        var manifest = DatasetManifest(
            seqLen: options.seqLen, vocabSize: vocab.count, vocabHash: vocab.hash, cased: options.cased,
            tokenDtype: tokenBytes == 2 ? "uint16" : "uint32", seed: options.seed,
            validationFraction: options.validationFraction, sequencesPerShard: options.sequencesPerShard,
            documents: 0, trainDocuments: 0, validationDocuments: 0, tokens: 0, trainTokens: 0,
            validationTokens: 0, trainSequences: 0, validationSequences: 0, corpusBytes: 0,
            invalidUTF8Sequences: 0, skippedBinaryFiles: 0, trainShards: [], validationShards: [])

        // Refuse before doing any work if the destination holds something else.
        let out = URL(fileURLWithPath: options.outDirectory).standardizedFileURL
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let destinationExists = fm.fileExists(atPath: out.path, isDirectory: &isDir)
        if destinationExists {
            let existingManifest = out.appendingPathComponent(DatasetManifest.fileName).path
            if !isDir.boolValue { throw DataError.outputNotADataset(path: out.path) }
            if fm.fileExists(atPath: existingManifest) {
                let old = try loadManifest(existingManifest)
                if let diff = manifest.settingsDifference(from: old) {
                    throw DataError.outputHoldsDifferentDataset(path: out.path, reason: diff)
                }
            } else if !((try? fm.contentsOfDirectory(atPath: out.path))?.isEmpty ?? false) {
                throw DataError.outputNotADataset(path: out.path)
            }
        }

        // Pass 1: count documents.
        var reader = try CorpusReader(paths: options.corpus, warn: { _ in })
        let format = options.format ?? CorpusFormat.detect(files: reader.files)
        var documentCount = 0
        var counter = CorpusFilter(format: format)
        try reader.read { raw in counter.process(raw) { event in if case .endOfDocument = event { documentCount += 1 } } }
        if documentCount == 0 { throw DataError.noUsableText(corpus: options.corpus) }
        let fallback = fallbackValidationDocument(documents: documentCount, seed: options.seed,
                                                  fraction: options.validationFraction)

        // Pass 2: tokenize and pack into a temporary sibling directory.
        let parent = out.deletingLastPathComponent().path
        let temp = (parent as NSString).appendingPathComponent(".\(out.lastPathComponent).tmp-\(getpid())")
        try? fm.removeItem(atPath: temp)
        do {
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
        } catch {
            throw DataError.io(path: temp, reason: "cannot create directory: \(error.localizedDescription)")
        }
        do {
            let writers = DatasetSplit.allCases.map {
                ShardWriter(split: $0, directory: temp, seqLen: options.seqLen,
                            sequencesPerShard: options.sequencesPerShard, tokenBytes: tokenBytes,
                            cls: vocab.clsId, sep: vocab.sepId, pad: vocab.padId)
            }
            reader.warn = warn
            var documentIndex = 0
            var current = isValidationDocument(0, seed: options.seed, fraction: options.validationFraction,
                                               fallback: fallback) ? writers[1] : writers[0]
            var ids: [Int32] = []
            ids.reserveCapacity(1 << 16)
            var filter = CorpusFilter(format: format)
            var runs = [RepeatRunCounter(), RepeatRunCounter()]
            var split = current === writers[1] ? 1 : 0
            // The first few skipped JSON Lines records, as FILE:LINE, for the warnings.
            var broken: [String] = [], textless: [String] = []
            let position = reader.position
            try reader.read { raw in
                let before = (filter.brokenLines, filter.recordsWithoutText)
                defer {
                    let place = "\(position.file):\(position.line)"
                    if filter.brokenLines > before.0 && broken.count < 5 { broken.append(place) }
                    if filter.recordsWithoutText > before.1 && textless.count < 5 { textless.append(place) }
                }
                try filter.process(raw) { event in
                    switch event {
                    case .text(let text):
                        ids.removeAll(keepingCapacity: true)
                        tokenizer.encode(text, appendingTo: &ids)
                        runs[split].add(ids)
                        try current.append(ids)
                    case .endOfDocument:
                        current.endDocument()
                        runs[split].endDocument()
                        documentIndex += 1
                        split = isValidationDocument(documentIndex, seed: options.seed,
                                                     fraction: options.validationFraction, fallback: fallback) ? 1 : 0
                        current = writers[split]
                    }
                }
            }
            for i in runs.indices { runs[i].endDocument() }
            manifest.corpusFormat = format.rawValue
            manifest.markupLinesRemoved = filter.removedLines
            manifest.trainRepeatRunShare = runs[0].share
            manifest.validationRepeatRunShare = runs[1].share
            func places(_ list: [String], of total: Int) -> String {
                list.joined(separator: ", ") + (total > list.count ? ", …" : "")
            }
            if filter.brokenLines > 0 {
                warn("warning: skipped \(filter.brokenLines) JSON Lines line(s) that are not a JSON object: "
                     + places(broken, of: filter.brokenLines))
            }
            if filter.recordsWithoutText > 0 {
                warn("warning: skipped \(filter.recordsWithoutText) JSON Lines record(s) without a string \"text\" field: "
                     + places(textless, of: filter.recordsWithoutText))
            }
            for w in writers { try w.finish() }
            let train = writers[0], validation = writers[1]
            manifest.trainDocuments = train.documents
            manifest.validationDocuments = validation.documents
            manifest.documents = train.documents + validation.documents
            manifest.trainTokens = train.contentTokens
            manifest.validationTokens = validation.contentTokens
            manifest.tokens = train.contentTokens + validation.contentTokens
            manifest.trainSequences = train.sequences
            manifest.validationSequences = validation.sequences
            manifest.trainShards = train.shards
            manifest.validationShards = validation.shards
            manifest.corpusBytes = reader.bytesRead
            manifest.invalidUTF8Sequences = reader.invalidUTF8Sequences
            manifest.skippedBinaryFiles = reader.skippedBinaryFiles
            if manifest.tokens == 0 { throw DataError.noUsableText(corpus: options.corpus) }

            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            // The dataset carries its own vocabulary, so training needs only the dataset directory.
            guard let vocabBytes = fm.contents(atPath: options.vocabPath) else {
                throw DataError.unreadable(path: options.vocabPath, reason: "read failed")
            }
            try DurableFile.writeAndSync([UInt8](vocabBytes), to: (temp as NSString).appendingPathComponent(DatasetManifest.vocabFileName))
            let json = try encoder.encode(manifest)
            try DurableFile.writeAndSync([UInt8](json), to: (temp as NSString).appendingPathComponent(DatasetManifest.fileName))
            DurableFile.syncDirectory(temp)

            if destinationExists {
                let old = (parent as NSString).appendingPathComponent(".\(out.lastPathComponent).old-\(getpid())")
                guard rename(out.path, old) == 0 else {
                    throw DataError.io(path: out.path, reason: "cannot move the previous dataset aside: "
                        + "\(String(cString: strerror(errno)))")
                }
                guard rename(temp, out.path) == 0 else {
                    let reason = String(cString: strerror(errno))
                    _ = rename(old, out.path)  // put the previous dataset back
                    throw DataError.io(path: out.path, reason: "rename failed: \(reason)")
                }
                DurableFile.syncDirectory(parent)
                try? fm.removeItem(atPath: old)
            } else {
                guard rename(temp, out.path) == 0 else {
                    throw DataError.io(path: out.path, reason: "rename failed: \(String(cString: strerror(errno)))")
                }
                DurableFile.syncDirectory(parent)
            }
        } catch {
            try? fm.removeItem(atPath: temp)
            throw error
        }
        return manifest
    }

    /// Counts content tokens and those inside runs of ≥ `TokenStatistics.runLength` identical tokens
    /// over a document's token stream (the label-composition figure of the manifest).
    struct RepeatRunCounter {
        var tokens = 0, inRuns = 0
        private var last: Int32 = -1, run = 0

        mutating func add(_ ids: [Int32]) {
            for id in ids {
                if id == last { run += 1 } else { flush(); last = id; run = 1 }
            }
            tokens += ids.count
        }

        mutating func endDocument() { flush(); last = -1 }

        private mutating func flush() {
            if run >= TokenStatistics.runLength { inRuns += run }
            run = 0
        }

        var share: Double { tokens > 0 ? Double(inRuns) / Double(tokens) : 0 }
    }

    static func loadManifest(_ path: String) throws -> DatasetManifest {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.fileNotFound(path: path) }
        do {
            let m = try JSONDecoder().decode(DatasetManifest.self, from: data)
            guard m.format == DatasetManifest.formatName else {
                throw DataError.malformedManifest(path: path, reason: "format \"\(m.format)\" is not \(DatasetManifest.formatName)")
            }
            return m
        } catch let e as DataError {
            throw e
        } catch {
            throw DataError.malformedManifest(path: path, reason: "\(error)")
        }
    }
}
