import Core

// The ranks other than 0 of a `sift prepare` job: ask rank 0 for chunks, tokenize them, send the parts.
extension DatasetPreparer {
    /// A rank other than 0: asks rank 0 for a chunk whenever one of its worker threads is free, tokenizes the
    /// chunks it is dealt and sends their parts to rank 0, in order, until rank 0 has no chunk left (or says
    /// the job failed, or to stop early); then waits for rank 0's word on the pass (done, again, failed).
    static func serve(
        plan: CorpusPlan, threads: Int, makeProducer: @escaping (Int) -> ChunkPipeline<ChunkPart>.Producer,
        ranks: RankMessaging
    ) throws {
        var stopped = false
        func watchStop() {
            if !stopped && ranks.hasMessage(from: 0, tag: PrepareMessage.stopTag) {
                _ = ranks.receive(from: 0, tag: PrepareMessage.stopTag)
                stopped = true
            }
        }
        while true {
            let dealt = DealtChunks()
            var asked = false  // a request is out and its answer not yet received
            func exchange() {
                watchStop()
                if asked && ranks.hasMessage(from: 0, tag: PrepareMessage.dealTag) {
                    asked = false
                    if let chunks = PrepareMessage.decodeDealt(ranks.receive(from: 0, tag: PrepareMessage.dealTag)) {
                        dealt.add(chunks)
                    } else {
                        dealt.close()
                    }
                }
                if stopped { dealt.close() }
                if !asked && dealt.wanted {
                    ranks.startSend([0], to: 0, tag: PrepareMessage.dealTag).wait()
                    asked = true
                }
            }
            func send(_ message: PrepareMessage.Sent) {
                ranks.startSend(PrepareMessage.encode(message), to: 0, tag: PrepareMessage.dataTag).wait(meanwhile: exchange)
            }
            let pipeline = ChunkPipeline<ChunkPart>(take: dealt.take, workers: threads, makeProducer: makeProducer)
            loop: while !stopped {
                exchange()
                do {
                    switch try pipeline.next(timeout: 0.002) {
                    case .end: break loop
                    case .waiting: continue
                    case .part(let part): send(.part(part))
                    }
                } catch {
                    send(.error(chunk: -1, message: "\(error)", io: isFailure(error)))
                    break loop
                }
            }
            dealt.close()
            pipeline.cancel()
            // Rank 0 answers every request, also when stopping; its answer must not be left unreceived.
            if asked { _ = ranks.receive(from: 0, tag: PrepareMessage.dealTag) }
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
