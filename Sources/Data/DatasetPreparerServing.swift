import Core

// The ranks other than 0 of a `sift prepare` job: tokenize their share and send it to rank 0.
extension DatasetPreparer {
    /// A rank other than 0: tokenizes its share of the chunks and sends the parts to rank 0, in order, until
    /// rank 0 says the pass is done (or to tokenize again, or that the job failed, or to stop early).
    static func serve(plan: CorpusPlan, tokenize: ChunkTokenizer, threads: Int, ranks: RankMessaging) throws {
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
            let pipeline = ChunkPipeline<ChunkPart>(order: mine, workers: threads, makeProducer: tokenize.workerProducers())
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
}
