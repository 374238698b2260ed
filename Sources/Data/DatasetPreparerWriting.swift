import Core
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Rank 0 of a `sift prepare` job: every chunk written in order, the validation fallback's second pass,
// and the clean-up when any rank fails.
extension DatasetPreparer {
    /// Rank 0: deals the chunks to its own worker threads (`local` makes their producers) and to the other
    /// ranks as they ask, receives the others' parts, writes every chunk in order, then the manifest.
    static func write(
        _ job: Job, plan: CorpusPlan, tokenize: ChunkTokenizer,
        local: @escaping (Int) -> ChunkPipeline<ChunkPart>.Producer, ranks: RankMessaging?,
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
        var dealer = ChunkDealer(sizes: plan.chunks.map(\.size))
        let deals = DealService(ranks: size > 1 ? ranks : nil)
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
                dealer = ChunkDealer(sizes: plan.chunks.map(\.size))
                try freshTemp()
                let assembler = try writePass(
                    plan: plan, options: options, template: job.template, temp: temp, fallback: fallback,
                    local: local, tokenize: tokenize, dealer: dealer, deals: deals, warn: warn, progress: progress)
                for r in 1..<size {
                    guard case .finished = PrepareMessage.decodeData(deals.receive(from: r, tag: PrepareMessage.dataTag, dealer)) else {
                        throw DataError.invalidArgument("rank \(r) sent more chunks than it was given")
                    }
                    finished.insert(r)
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
                    skippedRecords: skipped, passes: passes, ranks: size, threads: options.threads,
                    bytesByRank: dealer.bytesByRank(ranks: size))
            }
        } catch {
            if let ranks, size > 1 {
                // Stop every rank early, take what each has in flight (answering its requests for chunks with
                // none), then tell all the job failed.
                dealer.close()
                let stops = (1..<size).map { ranks.startSend([1], to: $0, tag: PrepareMessage.stopTag) }
                for r in 1..<size where !finished.contains(r) {
                    while true {
                        let message = deals.receive(from: r, tag: PrepareMessage.dataTag, dealer)
                        if case .finished = PrepareMessage.decodeData(message) { break }
                    }
                }
                for s in stops { s.wait() }
                tellRanks(.failed(message: "\(error)", io: isFailure(error)))
            }
            try? fm.removeItem(atPath: temp)
            throw error
        }
    }

    /// One pass over the corpus on rank 0: every chunk's parts written in chunk order, from rank 0's own
    /// workers or from the rank that took the chunk, answering the other ranks' requests while it waits.
    private static func writePass(
        plan: CorpusPlan, options: Options, template: DatasetManifest, temp: String, fallback: Int?,
        local: @escaping (Int) -> ChunkPipeline<ChunkPart>.Producer, tokenize: ChunkTokenizer, dealer: ChunkDealer,
        deals: DealService, warn: @escaping (String) -> Void, progress: ((Progress) -> Void)?
    ) throws -> DatasetAssembler {
        let writers = DatasetSplit.allCases.map {
            ShardWriter(
                split: $0, directory: temp, seqLen: options.seqLen, sequencesPerShard: options.sequencesPerShard,
                tokenBytes: template.tokenBytes, cls: tokenize.tokenizer.vocabulary.clsId,
                sep: tokenize.tokenizer.vocabulary.sepId, pad: tokenize.tokenizer.vocabulary.padId)
        }
        let assembler = DatasetAssembler(
            plan: plan, seed: options.seed, fraction: options.validationFraction,
            fallback: fallback, writers: writers, repeated: fallback != nil, warn: warn)
        let pipeline = ChunkPipeline<ChunkPart>(
            take: { dealer.take(by: 0) }, workers: options.threads, makeProducer: local)
        defer { pipeline.cancel() }
        func nextPart(_ chunk: Int, from owner: Int) throws -> ChunkPart {
            if owner != 0 {
                switch PrepareMessage.decodeData(deals.receive(from: owner, tag: PrepareMessage.dataTag, dealer)) {
                case .part(let part):
                    guard part.chunk == chunk else {
                        throw DataError.invalidArgument("rank \(owner) sent chunk \(part.chunk), expected \(chunk)")
                    }
                    return part
                case .error(_, let message, let io):
                    throw DataError.failedOnRank(rank: owner, message: message, io: io)
                case .finished:
                    throw DataError.invalidArgument("rank \(owner) stopped before chunk \(chunk)")
                }
            }
            guard case .part(let part) = try deals.next(from: pipeline, dealer) else {
                throw DataError.invalidArgument("chunk \(chunk) missing from this rank's tokenizers")
            }
            return part
        }
        var bytesDone = 0
        for chunk in plan.chunks.indices {
            let owner = deals.owner(of: chunk, dealer)
            var part = try nextPart(chunk, from: owner)
            if part.startCarry != assembler.carry {
                // Tokenized from an assumed state the previous chunk did not end in: do it again from the real one.
                while !part.last { part = try nextPart(chunk, from: owner) }
                try tokenize.tokenize(chunk, carry: assembler.carry) { try assembler.write($0) }
            } else {
                while true {
                    try assembler.write(part)
                    if part.last { break }
                    part = try nextPart(chunk, from: owner)
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
}

/// Rank 0's waits in a distributed `sift prepare`, each answering the other ranks' requests for chunks
/// (`ChunkDealer`) while it waits, so that no rank sits idle because rank 0 is busy waiting elsewhere.
/// Requests are looked for every `answerMicros` at most. Without other ranks (nil), the waits are plain
/// blocking ones.
final class DealService {
    /// The longest sleep between looks for requests, in microseconds: a rank's idle worker waits about
    /// this long per request (at least `ChunkDealer.batchBytes` of work), while rank 0's main thread
    /// wakes no more than 200 times a second.
    static let answerMicros: UInt32 = 5000

    private let ranks: RankMessaging?

    init(ranks: RankMessaging?) { self.ranks = ranks }

    /// Answers every request for chunks that has arrived, with the next chunks of `dealer` (or none).
    func answer(_ dealer: ChunkDealer) {
        guard let ranks else { return }
        for r in 1..<ranks.size where ranks.hasMessage(from: r, tag: PrepareMessage.dealTag) {
            _ = ranks.receive(from: r, tag: PrepareMessage.dealTag)
            let chunks = dealer.take(by: r, bytes: ChunkDealer.batchBytes)
            ranks.startSend(PrepareMessage.encodeDealt(chunks), to: r, tag: PrepareMessage.dealTag).wait()
        }
    }

    /// The next message from rank `from` under `tag`.
    func receive(from: Int, tag: Int32, _ dealer: ChunkDealer) -> [UInt8] {
        guard let ranks else { preconditionFailure("no other ranks to receive from") }
        var backoff = PollBackoff(maxMicros: Self.answerMicros)
        while !ranks.hasMessage(from: from, tag: tag) {
            answer(dealer)
            backoff.sleep()
        }
        return ranks.receive(from: from, tag: tag)
    }

    /// The rank that took `chunk` (on one process, 0).
    func owner(of chunk: Int, _ dealer: ChunkDealer) -> Int {
        guard ranks != nil else { return 0 }
        var backoff = PollBackoff(maxMicros: Self.answerMicros)
        while true {
            if let owner = dealer.owner(of: chunk) { return owner }
            answer(dealer)
            backoff.sleep()
        }
    }

    /// The next part of rank 0's own workers.
    func next(from pipeline: ChunkPipeline<ChunkPart>, _ dealer: ChunkDealer) throws -> ChunkPipeline<ChunkPart>.Next {
        guard ranks != nil else { return try pipeline.next() }
        while true {
            answer(dealer)
            let next = try pipeline.next(timeout: Double(Self.answerMicros) / 1e6)
            if case .waiting = next { continue }
            return next
        }
    }
}
