import Core
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `sift prepare`: tokenizes a corpus into packed, sharded MLM training data, on every core of every rank.
///
/// The corpus is cut into chunks (`CorpusPlan`: whole files, or line-aligned byte ranges of large files) in
/// an order fixed by the corpus alone. Worker threads tokenize chunks side by side (`ChunkPipeline`), and
/// under mpirun every rank tokenizes its share of them (chunk c on rank c mod ranks) and sends the token
/// ids to rank 0. Rank 0 alone writes: it takes the chunks in order (`DatasetAssembler`), so the shards,
/// their checksums and the validation split are the same bytes whatever the number of threads and ranks —
/// those of one reader going through the corpus from start to end. Memory is bounded: input is streamed,
/// and at most a few parts of ≤ 1 Mi token ids per worker wait to be written.
///
/// The validation split is by document index (a counter hash of seed and index); when the hash picks no
/// document at all (a small corpus or a tiny fraction), the one with the smallest hash is held out, which
/// needs the number of documents: the corpus is then tokenized a second time.
///
/// Output goes to a temporary directory next to the destination, every file is fsynced, and the
/// directory is renamed into place at the end, so an interrupted or failed run never looks complete.
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
        /// The JSON Lines field holding a record's text.
        public var textField: String
        /// Worker threads tokenizing on this rank (≥ 1).
        public var threads: Int
        /// Target bytes per chunk of a large file (`CorpusPlan`); any value gives the same dataset.
        public var chunkBytes: Int

        public init(
            corpus: [String], vocabPath: String, cased: Bool = false, seqLen: Int = 128,
            outDirectory: String, validationFraction: Double = 0.01, seed: UInt64 = 0,
            sequencesPerShard: Int = 65536, format: CorpusFormat? = nil,
            textField: String = CorpusFilter.defaultTextField, threads: Int = 1,
            chunkBytes: Int = CorpusPlan.defaultChunkBytes
        ) {
            self.format = format
            self.textField = textField
            self.corpus = corpus
            self.vocabPath = vocabPath
            self.cased = cased
            self.seqLen = seqLen
            self.outDirectory = outDirectory
            self.validationFraction = validationFraction
            self.seed = seed
            self.sequencesPerShard = sequencesPerShard
            self.threads = threads
            self.chunkBytes = chunkBytes
        }
    }

    /// How far rank 0 has written: bytes of the corpus (as planned) behind it, of the total.
    public typealias Progress = CorpusProgress

    /// What a run found and wrote, for the closing summary.
    public struct Report: Sendable {
        public var manifest: DatasetManifest
        /// Files in the corpus and chunks it was cut into.
        public var files: Int
        public var chunks: Int
        /// JSON Lines records skipped (not an object, or no string text field).
        public var skippedRecords: Int
        /// Times the corpus was tokenized (2 when the fallback validation document was needed).
        public var passes: Int
        /// Ranks and threads per rank that tokenized.
        public var ranks: Int
        public var threads: Int
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
            if u < bestValue {
                bestValue = u
                best = i
            }
        }
        return best
    }

    /// A run set up on one rank: its inputs checked and loaded. Rank 0 (`planning`) has also checked the
    /// destination and planned the corpus; the other ranks receive the plan when the run starts.
    public struct Job {
        let options: Options
        let tokenizer: BertTokenizer
        let template: DatasetManifest
        let plan: CorpusPlan?
        let out: URL
        let destinationExists: Bool
    }

    /// Checks the options, loads the vocabulary and, when `planning` (rank 0), checks the destination and
    /// plans the corpus. Touches nothing on disk; every error is bad input.
    public static func setUp(_ options: Options, planning: Bool = true) throws -> Job {
        guard seqLenRange.contains(options.seqLen) else { throw DataError.invalidSequenceLength(options.seqLen) }
        guard options.validationFraction >= 0 && options.validationFraction < 1 else {
            throw DataError.invalidArgument("validation fraction \(options.validationFraction) must be in [0, 1)")
        }
        guard options.sequencesPerShard >= 1 else {
            throw DataError.invalidArgument("sequences per shard must be at least 1")
        }
        guard options.threads >= 1 else { throw DataError.invalidArgument("threads must be at least 1") }
        guard options.chunkBytes >= 1 else { throw DataError.invalidArgument("chunk bytes must be at least 1") }
        guard !options.textField.isEmpty else { throw DataError.invalidArgument("the JSON Lines text field name is empty") }
        let vocab = try Vocabulary(path: options.vocabPath)
        let tokenizer = BertTokenizer(vocabulary: vocab, cased: options.cased)
        let tokenBytes = vocab.count <= 65535 ? 2 : 4
        let template = DatasetManifest(
            seqLen: options.seqLen, vocabSize: vocab.count, vocabHash: vocab.hash, cased: options.cased,
            tokenDtype: tokenBytes == 2 ? "uint16" : "uint32", seed: options.seed,
            validationFraction: options.validationFraction, sequencesPerShard: options.sequencesPerShard,
            documents: 0, trainDocuments: 0, validationDocuments: 0, tokens: 0, trainTokens: 0,
            validationTokens: 0, trainSequences: 0, validationSequences: 0, corpusBytes: 0,
            invalidUTF8Sequences: 0, skippedBinaryFiles: 0, trainShards: [], validationShards: [])

        let out = URL(fileURLWithPath: options.outDirectory).standardizedFileURL
        var destinationExists = false
        var plan: CorpusPlan? = nil
        if planning {
            // Refuse before doing any work if the destination holds something else.
            let fm = FileManager.default
            var isDir: ObjCBool = false
            destinationExists = fm.fileExists(atPath: out.path, isDirectory: &isDir)
            if destinationExists {
                let existingManifest = out.appendingPathComponent(DatasetManifest.fileName).path
                if !isDir.boolValue { throw DataError.outputNotADataset(path: out.path) }
                if fm.fileExists(atPath: existingManifest) {
                    let old = try loadManifest(existingManifest)
                    if let diff = template.settingsDifference(from: old) {
                        throw DataError.outputHoldsDifferentDataset(path: out.path, reason: diff)
                    }
                } else if !((try? fm.contentsOfDirectory(atPath: out.path))?.isEmpty ?? false) {
                    throw DataError.outputNotADataset(path: out.path)
                }
            }
            plan = try CorpusPlan(
                paths: options.corpus, format: options.format, textField: options.textField,
                chunkBytes: options.chunkBytes)
        }
        return Job(
            options: options, tokenizer: tokenizer, template: template, plan: plan, out: out,
            destinationExists: destinationExists)
    }

    /// Runs the preparation on one process and returns the written manifest. `warn` receives one-line
    /// warnings, `progress` rank 0's progress after every chunk.
    @discardableResult
    public static func prepare(
        _ options: Options, warn: @escaping (String) -> Void,
        progress: ((Progress) -> Void)? = nil
    ) throws -> DatasetManifest {
        try run(setUp(options), ranks: nil, warn: warn, progress: progress)!.manifest
    }

    /// Runs a set-up job on every rank of `ranks` (nil: this process alone). Rank 0 returns the report; the
    /// other ranks return nil. Every rank throws when any rank fails (the error met, on rank 0; a
    /// `DataError.failedOnRank` carrying it, on the others), after rank 0 has removed its temporary output.
    public static func run(
        _ job: Job, ranks: RankMessaging?, warn: @escaping (String) -> Void,
        progress: ((Progress) -> Void)? = nil
    ) throws -> Report? {
        let size = ranks?.size ?? 1
        var plan = job.plan
        if let ranks, size > 1 {
            let bytes = ranks.rank == 0 ? [UInt8]((try? JSONEncoder().encode(plan!)) ?? Foundation.Data()) : []
            plan = try JSONDecoder().decode(CorpusPlan.self, from: Foundation.Data(ranks.broadcast(bytes, root: 0)))
        }
        guard let plan else { throw DataError.invalidArgument("no corpus plan on rank 0") }
        let tokenize = ChunkTokenizer(plan: plan, tokenizer: job.tokenizer)
        if let ranks, ranks.rank != 0 {
            try serve(plan: plan, tokenize: tokenize, threads: job.options.threads, ranks: ranks)
            return nil
        }
        return try write(job, plan: plan, tokenize: tokenize, ranks: ranks, warn: warn, progress: progress)
    }

    /// A rank other than 0: tokenizes its share of the chunks and sends the parts to rank 0, in order, until
    /// rank 0 says the pass is done (or to tokenize again, or that the job failed, or to stop early).
    private static func serve(plan: CorpusPlan, tokenize: ChunkTokenizer, threads: Int, ranks: RankMessaging) throws {
        let mine = plan.chunks.indices.filter { $0 % ranks.size == ranks.rank }
        var stopped = false
        func watchStop() {
            if !stopped && ranks.hasMessage(from: 0, tag: PrepareMessage.stopTag) {
                _ = ranks.receive(from: 0, tag: PrepareMessage.stopTag)
                stopped = true
            }
        }
        func send(_ message: PrepareMessage.Sent) {
            ranks.startSend(PrepareMessage.encode(message), to: 0, tag: PrepareMessage.dataTag).wait(meanwhile: watchStop)
        }
        while true {
            let pipeline = ChunkPipeline<ChunkPart>(order: mine, workers: threads) { try tokenize.tokenize($0, $1) }
            loop: while !stopped {
                do {
                    switch try pipeline.next(timeout: 0.005) {
                    case .end: break loop
                    case .waiting: watchStop()
                    case .part(let part): send(.part(part))
                    }
                } catch {
                    send(.error(chunk: -1, message: "\(error)", io: isFailure(error)))
                    break loop
                }
            }
            pipeline.cancel()
            send(.finished)
            switch PrepareMessage.decodeOutcome(ranks.receive(from: 0, tag: PrepareMessage.outcomeTag)) {
            case .done:
                return
            case .again:
                continue
            case .failed(let message, let io):
                if !stopped { _ = ranks.receive(from: 0, tag: PrepareMessage.stopTag) }
                throw DataError.failedOnRank(rank: 0, message: message, io: io)
            }
        }
    }

    /// Whether an error is a failure while running (exit status 1) rather than bad input (2).
    public static func isFailure(_ error: Error) -> Bool {
        guard let e = error as? DataError else { return true }
        switch e {
        case .io: return true
        case .failedOnRank(_, _, let io): return io
        default: return false
        }
    }

    /// Rank 0: tokenizes its share, receives the others' parts, writes every chunk in order, then the manifest.
    private static func write(
        _ job: Job, plan: CorpusPlan, tokenize: ChunkTokenizer, ranks: RankMessaging?,
        warn: @escaping (String) -> Void, progress: ((Progress) -> Void)?
    ) throws -> Report {
        let options = job.options
        let size = ranks?.size ?? 1
        let fm = FileManager.default
        let out = job.out
        let parent = out.deletingLastPathComponent().path
        let temp = (parent as NSString).appendingPathComponent(".\(out.lastPathComponent).tmp-\(getpid())")
        func freshTemp() throws {
            try? fm.removeItem(atPath: temp)
            do {
                try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
            } catch {
                throw DataError.io(path: temp, reason: "cannot create directory: \(error.localizedDescription)")
            }
        }
        var finished = Set<Int>()  // ranks whose last message of the pass has been received
        func tellRanks(_ outcome: PrepareMessage.Outcome) {
            guard let ranks, size > 1 else { return }
            let sends = (1..<size).map { ranks.startSend(PrepareMessage.encode(outcome), to: $0, tag: PrepareMessage.outcomeTag) }
            for s in sends { s.wait() }
        }
        var manifest = job.template
        var fallback: Int? = nil
        var passes = 0
        do {
            while true {
                passes += 1
                finished = []
                try freshTemp()
                let assembler = try writePass(
                    plan: plan, tokenize: tokenize, options: options, template: job.template,
                    temp: temp, fallback: fallback, ranks: ranks, warn: warn, progress: progress)
                if let ranks {
                    for r in 1..<size {
                        guard case .finished = PrepareMessage.decodeData(ranks.receive(from: r, tag: PrepareMessage.dataTag)) else {
                            throw DataError.invalidArgument("rank \(r) sent more chunks than it was given")
                        }
                        finished.insert(r)
                    }
                }
                if assembler.documents == 0 { throw DataError.noUsableText(corpus: options.corpus) }
                if fallback == nil && !assembler.anyHashed,
                    let f = fallbackValidationDocument(
                        documents: assembler.documents, seed: options.seed,
                        fraction: options.validationFraction)
                {
                    fallback = f
                    tellRanks(.again(fallback: f))
                    continue
                }
                try assembler.finish(into: &manifest)
                if manifest.tokens == 0 { throw DataError.noUsableText(corpus: options.corpus) }
                try writeManifest(manifest, vocabPath: options.vocabPath, into: temp)
                try moveIntoPlace(temp: temp, out: out, parent: parent, destinationExists: job.destinationExists)
                tellRanks(.done)
                let skipped = assembler.tally.skippedRecords
                return Report(
                    manifest: manifest, files: plan.files.count, chunks: plan.chunks.count,
                    skippedRecords: skipped, passes: passes, ranks: size, threads: options.threads)
            }
        } catch {
            if let ranks, size > 1 {
                // Stop every rank early, take what each has in flight, then tell all the job failed.
                let stops = (1..<size).map { ranks.startSend([1], to: $0, tag: PrepareMessage.stopTag) }
                for r in 1..<size where !finished.contains(r) {
                    while true {
                        if case .finished = PrepareMessage.decodeData(ranks.receive(from: r, tag: PrepareMessage.dataTag)) { break }
                    }
                }
                for s in stops { s.wait() }
                tellRanks(.failed(message: "\(error)", io: isFailure(error)))
            }
            try? fm.removeItem(atPath: temp)
            throw error
        }
    }

    /// One pass over the corpus on rank 0: every chunk's parts written in chunk order.
    private static func writePass(
        plan: CorpusPlan, tokenize: ChunkTokenizer, options: Options, template: DatasetManifest,
        temp: String, fallback: Int?, ranks: RankMessaging?, warn: @escaping (String) -> Void,
        progress: ((Progress) -> Void)?
    ) throws -> DatasetAssembler {
        let size = ranks?.size ?? 1
        let writers = DatasetSplit.allCases.map {
            ShardWriter(
                split: $0, directory: temp, seqLen: options.seqLen, sequencesPerShard: options.sequencesPerShard,
                tokenBytes: template.tokenBytes, cls: tokenize.tokenizer.vocabulary.clsId,
                sep: tokenize.tokenizer.vocabulary.sepId, pad: tokenize.tokenizer.vocabulary.padId)
        }
        let assembler = DatasetAssembler(
            plan: plan, seed: options.seed, fraction: options.validationFraction,
            fallback: fallback, writers: writers, repeated: fallback != nil, warn: warn)
        let local = plan.chunks.indices.filter { $0 % size == 0 }
        let pipeline = ChunkPipeline<ChunkPart>(order: local, workers: options.threads) { try tokenize.tokenize($0, $1) }
        defer { pipeline.cancel() }
        func nextPart(_ chunk: Int) throws -> ChunkPart {
            if let ranks, chunk % size != 0 {
                switch PrepareMessage.decodeData(ranks.receive(from: chunk % size, tag: PrepareMessage.dataTag)) {
                case .part(let part):
                    guard part.chunk == chunk else {
                        throw DataError.invalidArgument("rank \(chunk % size) sent chunk \(part.chunk), expected \(chunk)")
                    }
                    return part
                case .error(_, let message, let io):
                    throw DataError.failedOnRank(rank: chunk % size, message: message, io: io)
                case .finished:
                    throw DataError.invalidArgument("rank \(chunk % size) stopped before chunk \(chunk)")
                }
            }
            guard case .part(let part) = try pipeline.next() else {
                throw DataError.invalidArgument("chunk \(chunk) missing from this rank's tokenizers")
            }
            return part
        }
        var bytesDone = 0
        for chunk in plan.chunks.indices {
            var part = try nextPart(chunk)
            if part.startCarry != assembler.carry {
                // Tokenized from an assumed state the previous chunk did not end in: do it again from the real one.
                while !part.last { part = try nextPart(chunk) }
                try tokenize.tokenize(chunk, carry: assembler.carry) { try assembler.write($0) }
            } else {
                while true {
                    try assembler.write(part)
                    if part.last { break }
                    part = try nextPart(chunk)
                }
            }
            bytesDone += plan.chunks[chunk].size
            progress?(
                Progress(
                    bytesDone: bytesDone, totalBytes: plan.totalBytes, chunksDone: chunk + 1,
                    chunks: plan.chunks.count))
        }
        return assembler
    }

    /// Writes the dataset's copy of the vocabulary and the manifest (last: its presence marks a complete dataset).
    private static func writeManifest(_ manifest: DatasetManifest, vocabPath: String, into temp: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // The dataset carries its own vocabulary, so training needs only the dataset directory.
        guard let vocabBytes = FileManager.default.contents(atPath: vocabPath) else {
            throw DataError.unreadable(path: vocabPath, reason: "read failed")
        }
        try DurableFile.writeAndSync([UInt8](vocabBytes), to: (temp as NSString).appendingPathComponent(DatasetManifest.vocabFileName))
        let json = try encoder.encode(manifest)
        try DurableFile.writeAndSync([UInt8](json), to: (temp as NSString).appendingPathComponent(DatasetManifest.fileName))
        DurableFile.syncDirectory(temp)
    }

    /// Renames the finished temporary directory to `out`, swapping out a previous dataset by renames.
    private static func moveIntoPlace(temp: String, out: URL, parent: String, destinationExists: Bool) throws {
        if destinationExists {
            let old = (parent as NSString).appendingPathComponent(".\(out.lastPathComponent).old-\(getpid())")
            guard rename(out.path, old) == 0 else {
                throw DataError.io(
                    path: out.path,
                    reason: "cannot move the previous dataset aside: "
                        + "\(String(cString: strerror(errno)))")
            }
            guard rename(temp, out.path) == 0 else {
                let reason = String(cString: strerror(errno))
                _ = rename(old, out.path)  // put the previous dataset back
                throw DataError.io(path: out.path, reason: "rename failed: \(reason)")
            }
            DurableFile.syncDirectory(parent)
            try? FileManager.default.removeItem(atPath: old)
        } else {
            guard rename(temp, out.path) == 0 else {
                throw DataError.io(path: out.path, reason: "rename failed: \(String(cString: strerror(errno)))")
            }
            DurableFile.syncDirectory(parent)
        }
    }

    /// Counts content tokens and those inside runs of ≥ `TokenStatistics.runLength` identical tokens
    /// over a document's token stream (the label-composition figure of the manifest).
    struct RepeatRunCounter {
        var tokens = 0, inRuns = 0
        private var last: Int32 = -1, run = 0

        mutating func add<C: Collection>(_ ids: C) where C.Element == Int32 {
            for id in ids {
                if id == last {
                    run += 1
                } else {
                    flush()
                    last = id
                    run = 1
                }
            }
            tokens += ids.count
        }

        mutating func endDocument() {
            flush()
            last = -1
        }

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
