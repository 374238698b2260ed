import Core
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Rank 0 of a `sift prepare` job: every chunk written in order, the validation fallback's second pass,
// and the clean-up when any rank fails.
extension DatasetPreparer {
    /// Rank 0: tokenizes its share, receives the others' parts, writes every chunk in order, then the manifest.
    static func write(
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
        let pipeline = ChunkPipeline<ChunkPart>(order: local, workers: options.threads, makeProducer: tokenize.workerProducers())
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
}
