import Communication
import Model
import Selection

/// This rank's sums over what it backpropagated in one step.
struct TrainedSums {
    /// Summed training loss of this rank's samples (nats).
    var lossSum: Double
    /// The unigram model's loss on the same masked tokens, while `--sift-start-learned` waits (else 0).
    var unigramSum: Double
    /// Masked tokens of the whole selection, over all ranks.
    var globalMasked: Int
}

/// Step 3: backpropagating this rank's part of the selection.
extension Trainer {
    /// 3. Forward and backward of this rank's part of the selection with loss weight 1/(global masked
    /// tokens), so the summed gradient is that of the mean over all selected tokens; the last micro-batch's
    /// backward starts the bucket allreduces, and the step waits for them here.
    func backpropagate(_ plan: StepPlan, _ result: GlobalSelectionResult) throws -> TrainedSums {
        let assigned = GlobalSelection.assignment(
            result, poolSize: plan.pool.count, rank: communicator.rank,
            size: communicator.size, rebalance: options.rebalance)
        var microBatches: [MLMBatch] = []
        var microBatchPositions: [ArraySlice<Int>] = []
        var localMasked = 0
        var unigramSum = 0.0
        let waiting = siftStart.isPending ? reference : nil
        monitor.run(.data) {
            inMicroBatches(assigned) { positions in
                let mb = fill(plan.samples(positions), from: train)
                localMasked += mb.maskedTokenCount
                if let waiting {
                    unigramSum += mb.labels.withUnsafeBufferPointer {
                        waiting.totalLoss(labels: $0.baseAddress!, count: mb.count * mb.seqLen).sum
                    }
                }
                microBatches.append(mb)
                microBatchPositions.append(positions)
            }
        }
        var microBatchSlots: [[PrefixSlot]?] = []
        if let prefix, plan.selects {
            microBatchSlots = monitor.run(.forwardBackward) { resumeSlots(plan, assigned: assigned, prefix: prefix) }
        }
        let globalMasked = monitor.run(.synchronisation) { communicator.allreduceSum(localMasked) }
        guard globalMasked > 0 else { throw TrainingError(message: "selected samples have no masked tokens at step \(step + 1)") }

        model.gradients.zero()
        var lossSum = 0.0
        // `last-loss`: (pool position, loss, score) of every sample backpropagated here, recorded below.
        var trained: [Float] = []
        let records = options.ranksByTrainingLoss
        let lossWeight = monitor.lossWeight(1 / Float(globalMasked))
        monitor.run(.forwardBackward) {
            for (k, mb) in microBatches.enumerated() {
                let last = k == microBatches.count - 1
                let resume = k < microBatchSlots.count ? microBatchSlots[k].map { (prefix: prefix!, slots: $0) } : nil
                let stats = model.forwardBackward(
                    mb, lossWeight: lossWeight, dropoutSeed: dropoutSeed, resumingFrom: resume,
                    onGradientsReady: last ? { self.buckets.gradientsReady(from: $0) } : nil)
                for s in stats { lossSum += Double(s.lossSum) }
                if records { trained += trainingRecords(mb, stats: stats, positions: microBatchPositions[k]) }
            }
        }
        monitor.enter(.allreduce)
        monitor.add(buckets.finish(), to: .allreduce)
        if records { record(trainingLosses: communicator.allgatherv(trained), pool: plan.pool) }
        return TrainedSums(lossSum: lossSum, unigramSum: unigramSum, globalMasked: globalMasked)
    }

    /// Calls `body` on consecutive pieces of `items` of at most `--micro-batch` elements.
    func inMicroBatches<T>(_ items: [T], _ body: (ArraySlice<T>) throws -> Void) rethrows {
        var start = 0
        while start < items.count {
            let end = min(start + options.microBatch, items.count)
            try body(items[start..<end])
            start = end
        }
    }

    /// The dropout seed of this step's training forward (and of the scoring forward that it reuses).
    var dropoutSeed: UInt64 { Scorer.dropoutSeed(seed: options.seed, counter: step) }

    /// (pool position, mean training loss, score) triples of one trained micro-batch, flattened; the score
    /// is the loss, or for `--score reducible` the loss minus the masked labels' unigram reference loss.
    func trainingRecords(_ mb: MLMBatch, stats: [SampleLoss], positions: ArraySlice<Int>) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(3 * stats.count)
        for (row, position) in positions.enumerated() {
            let loss = stats[row].meanLoss
            out.append(Float(position))
            out.append(loss)
            out.append(options.score == .reducible ? reducibleScore(loss, mb, row: row) : loss)
        }
        return out
    }

    /// Stores every rank's training losses of this step (allgathered triples) in the `last-loss` table,
    /// so the table stays the same on every rank.
    func record(trainingLosses all: [Float], pool: [Int]) {
        for i in stride(from: 0, to: all.count, by: 3) {
            staleTable!.record(pool[Int(all[i])], loss: all[i + 1], score: all[i + 2], step: step)
        }
    }
}
