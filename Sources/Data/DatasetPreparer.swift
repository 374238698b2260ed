import Core
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `sift prepare`: tokenizes a corpus into packed, sharded MLM training data, on every core of every rank.
///
/// The corpus is cut into chunks (`CorpusPlan`: whole files, or line-aligned byte ranges of large files) in
/// an order fixed by the corpus alone. Worker threads tokenize chunks side by side (`ChunkPipeline`), and
/// under mpirun every rank tokenizes the chunks rank 0 deals it as its threads free up (`ChunkDealer`) and
/// sends the token ids to rank 0. Rank 0 alone writes: it takes the chunks in order (`DatasetAssembler`), so the shards,
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

    /// How far rank 0 has written: bytes of the corpus (as planned) behind it, of the total.
    public typealias Progress = CorpusProgress

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
        var producers = tokenize.workerProducers()
        if let slow = job.options.slowRank, slow.rank == (ranks?.rank ?? 0) {
            let made = producers
            producers = { worker in
                let produce = made(worker)
                return { chunk, body in
                    Thread.sleep(forTimeInterval: slow.secondsPerChunk)
                    try produce(chunk, body)
                }
            }
        }
        if let ranks, ranks.rank != 0 {
            try serve(plan: plan, threads: job.options.threads, makeProducer: producers, ranks: ranks)
            return nil
        }
        return try write(job, plan: plan, tokenize: tokenize, local: producers, ranks: ranks, warn: warn, progress: progress)
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
