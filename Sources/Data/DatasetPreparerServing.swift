import Core

// The ranks other than 0 of a `sift prepare` job: ask rank 0 for chunks, tokenize them, send the parts.
extension DatasetPreparer {
    /// Parts a rank keeps in flight to rank 0 at most, in `ChunkPart.weight` (token ids): two full parts.
    static let maxInFlightWeight = 2 * ChunkPart.fullWeight

    /// A rank other than 0: asks rank 0 for chunks whenever one of its worker threads is free, tokenizes the
    /// chunks it is dealt and sends their parts to rank 0, in order, until rank 0 has no chunk left (or says
    /// the job failed, or to stop early); then waits for rank 0's word on the pass (done, again, failed).
    /// Its main thread sleeps until a part is ready or a worker wants a chunk, looking for rank 0's answer
    /// every millisecond while a request is out and for its other messages every 20 ms.
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
            // Sends in flight, oldest first: rank 0 takes them in order as it reaches their chunks, so a
            // rank does not wait for each one (a round trip per part) before sending the next.
            var inFlight: [(send: PendingSend, weight: Int)] = []
            var inFlightWeight = 0
            func settle() {
                while let first = inFlight.first, first.send.isComplete() {
                    inFlightWeight -= first.weight
                    inFlight.removeFirst()
                }
            }
            func send(_ message: PrepareMessage.Sent, weight: Int = 1) {
                inFlight.append((ranks.startSend(PrepareMessage.encode(message), to: 0, tag: PrepareMessage.dataTag), weight))
                inFlightWeight += weight
            }
            let pipeline = ChunkPipeline<ChunkPart>(take: dealt.take, workers: threads, makeProducer: makeProducer)
            dealt.callWhenWanted(pipeline.wake)
            var held = PollBackoff()
            loop: while !stopped {
                exchange()
                settle()
                if inFlightWeight >= maxInFlightWeight {
                    // Rank 0 has not reached the parts already sent: wait for it, not for the workers.
                    held.sleep()
                    continue
                }
                held = PollBackoff()
                do {
                    switch try pipeline.next(timeout: asked ? 0.001 : Double(PollBackoff.defaultMaxMicros) / 1e6) {
                    case .end: break loop
                    case .waiting: continue
                    case .part(let part): send(.part(part), weight: part.weight)
                    }
                } catch {
                    send(.error(chunk: -1, message: "\(error)", io: isFailure(error)))
                    break loop
                }
            }
            dealt.close()
            dealt.callWhenWanted(nil)
            pipeline.cancel()
            // Rank 0 answers every request, also when stopping; its answer must not be left unreceived.
            if asked { _ = ranks.receive(from: 0, tag: PrepareMessage.dealTag) }
            send(.finished)
            var draining = PollBackoff()
            while true {
                settle()
                if inFlight.isEmpty { break }
                watchStop()
                draining.sleep()
            }
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
