import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection

/// One optimizer step: plan, score, select, backpropagate, update.
extension Trainer {
    /// One step's candidates: the pool drawn from the stream, their epochs, this rank's share of pool
    /// positions, the rule in force (nil: the pool is the batch, as during the sifting delay) and which positions need a
    /// fresh score (false: a stale score is reused). The same on every rank but for `share`.
    struct StepPlan {
        var pool: [Int]
        var epochs: [Int]
        var share: Range<Int>
        var rule: SelectionRule?
        /// Whether this step reduces a larger pool to b.
        var selects: Bool { rule != nil }
        var fresh: [Bool]

        /// (global index, epoch) of pool positions, as `fill` takes them.
        func samples<C: Collection<Int>>(_ positions: C) -> ArraySlice<(index: Int, epoch: Int)> {
            positions.map { (index: pool[$0], epoch: epochs[$0]) }[...]
        }
    }

    func planStep() -> StepPlan {
        let B = siftStart.poolSize(atStep: step, options: options)
        let rule = siftStart.selects(atStep: step) ? options.effectiveRule : nil
        let (pool, epochs) = stream.candidates(from: siftStart.streamStart(atStep: step, options: options), count: B)
        let fresh: [Bool] = rule != nil && scorer != nil ? pool.map { staleTable?.needsScore($0, step: step) ?? true } : []
        let share = GlobalSelection.share(poolSize: B, rank: communicator.rank, size: communicator.size)
        return StepPlan(pool: pool, epochs: epochs, share: share,
                        rule: rule, fresh: fresh)
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

    /// Runs one optimizer step — score, select, backpropagate, update — and returns its statistics
    /// (identical on every rank except `times`).
    func trainStep(times: inout PhaseTimes) throws -> StepRecord {
        let plan = planStep()
        watchdog?.enter(.scoring, step: step + 1)
        options.faults.stallIfAsked(rank: communicator.rank, step: step + 1)
        let (losses, scores) = try score(plan, times: &times)
        watchdog?.enter(.selection, step: step + 1)
        let result = try select(plan, losses: losses, scores: scores, times: &times)
        let fidelity = options.fidelityEvery > 0 && (step + 1) % options.fidelityEvery == 0 && plan.selects
            ? try measureFidelity(plan, result, losses: losses) : nil
        let (lossSum, unigramSum, globalMasked) = try backpropagate(plan, result, times: &times)
        let (norm, lr) = update(times: &times)
        watchdog?.enter(.synchronisation, step: step + 1)
        let gating = siftStart.isPending
        let totals = timed(&times.waiting) { communicator.allreduceSum(gating ? [lossSum, unigramSum] : [lossSum]) }
        let trainLoss = totals[0] / Double(globalMasked)
        if !norm.isFinite || !trainLoss.isFinite {
            let what = norm.isFinite ? "loss" : "gradient norm"
            throw TrainingError(message: "non-finite \(what) at step \(step + 1): training has diverged (lower --lr?)")
        }
        var learnedShare: Double?
        if gating {
            siftStart.observe(step: step, trainLoss: trainLoss, unigramLoss: totals[1] / Double(globalMasked), options: options)
            if let start = siftStart.startStep, isRoot {
                output(String(format: "selection starts at step %d: the model has learned %.3f of the unigram loss "
                              + "(--sift-start-learned %.3f)", start + 1, siftStart.learnedShare, options.siftStartLearned))
            }
            learnedShare = siftStart.learnedShare
        }

        step += 1
        samplesScored += plan.fresh.lazy.filter { $0 }.count
        samplesBackpropagated += options.batchSize
        var record = StepRecord(step: step, trainLoss: trainLoss, learningRate: lr, gradientNorm: norm,
                                threshold: result.threshold,
                                meanCandidateLoss: result.meanCandidateLoss, meanSelectedLoss: result.meanSelectedLoss,
                                selectedPerRank: result.selectedPerRank, imbalance: result.imbalance,
                                maskedTokens: globalMasked, tokens: options.batchSize * train.seqLen, fidelity: fidelity)
        record.learnedShare = learnedShare
        if options.selectionLogPath != nil {
            record.selection = SelectionTrace(pool: plan.pool, losses: result.poolLosses,
                                              scores: scores == nil ? nil : result.poolScores,
                                              selected: result.selectedPositions.map { plan.pool[$0] })
        }
        return record
    }

    /// 1. Scores this rank's share of the pool along the scoring path: the approximate losses and, for
    /// `--score reducible`, the scores; stale entries come from the table.
    func score(_ plan: StepPlan, times: inout PhaseTimes) throws -> (losses: [Float], scores: [Float]?) {
        guard plan.selects else { return ([], nil) }
        let reducible = options.score == .reducible
        guard let scorer else {
            // `last-loss`: no forward; each candidate's training loss from its last backpropagation, +∞ if it has none.
            let table = staleTable!
            let entries = plan.share.map { table.isRecorded(plan.pool[$0]) ? table.entry(plan.pool[$0]) : (Float.infinity, Float.infinity) }
            return (entries.map(\.0), reducible ? entries.map(\.1) : nil)
        }
        var losses = [Float](repeating: 0, count: plan.share.count)
        var scores: [Float]? = reducible ? losses : nil
        let toScore = plan.share.filter { plan.fresh[$0] }
        prefixSlots = Array(repeating: nil, count: plan.share.count)
        let samples = Array(plan.samples(toScore))
        try scorer.score(samples, from: train, seed: options.seed, counter: step, times: &times) { first, batch, scored, chunk in
            for row in 0..<batch.count {
                let at = toScore[first + row] - plan.share.lowerBound
                losses[at] = scored[row].meanLoss
                if let chunk { prefixSlots[at] = PrefixSlot(chunk: chunk, row: row) }
                if reducible { scores![at] = reducibleScore(scored[row].meanLoss, batch, row: row) }
            }
        }
        if let table = staleTable {
            for position in plan.share where !plan.fresh[position] {
                let e = table.entry(plan.pool[position])
                losses[position - plan.share.lowerBound] = e.loss
                if reducible { scores![position - plan.share.lowerBound] = e.score }
            }
        }
        return (losses, scores)
    }

    /// 2. Agrees on the global selection (one allgather, or the threshold exchange's rounds), updates the
    /// stale-score table with the fresh scores.
    func select(_ plan: StepPlan, losses: [Float], scores: [Float]?, times: inout PhaseTimes) throws -> GlobalSelectionResult {
        let exchange = options.selectionExchange  // resolved by `Trainer.init`: never `auto`
        var result = timed(&times.selection) {
            selection.select(localLosses: losses, localScores: scores, pool: plan.pool, count: options.batchSize,
                             rule: plan.rule, history: &history, beta: options.beta,
                             seed: options.seed, step: step, exchange: exchange)
        }
        // +∞ is allowed only as a `last-loss` candidate without a recorded loss.
        if result.invalidLosses > 0 || (result.infiniteLosses > 0 && !options.ranksByTrainingLoss) {
            throw TrainingError(message: "non-finite approximate loss at step \(step + 1): training has diverged (lower --lr?)")
        }
        // The threshold exchange gathers no losses; the selection log needs them all.
        if plan.selects && result.poolLosses.isEmpty && options.selectionLogPath != nil {
            result.poolLosses = communicator.allgatherv(losses)
            result.poolScores = scores.map { communicator.allgatherv($0) } ?? result.poolLosses
        }
        if staleTable != nil {
            for (position, isFresh) in plan.fresh.enumerated() where isFresh {
                staleTable!.record(plan.pool[position], loss: result.poolLosses[position], score: result.poolScores[position], step: step)
            }
        }
        return result
    }

    /// Off the clock (the loop subtracts it): Spearman correlation and top-b overlap of the losses the
    /// selection used with the exact losses of the same pool.
    /// `losses` are this rank's approximate losses, gathered here when the selection did not gather them.
    func measureFidelity(_ plan: StepPlan, _ result: GlobalSelectionResult, losses: [Float]) throws -> (spearman: Double?, overlap: Double) {
        let t0 = Date()
        let exact = try exactScorer.losses(Array(plan.samples(plan.share)), from: train, seed: options.seed, counter: step)
        let all = communicator.allgatherv(exact)
        let approximate = result.poolLosses.isEmpty ? communicator.allgatherv(losses) : result.poolLosses
        let fidelity = (SelectionFidelity.spearman(approximate, all),
                        SelectionFidelity.topOverlap(approximate: approximate, exact: all, globalIndices: plan.pool,
                                                     count: options.batchSize))
        offTheClock += communicator.allreduceMax(Date().timeIntervalSince(t0))
        return fidelity
    }

    /// 3. Forward and backward of this rank's part of the selection with loss weight 1/(global masked
    /// tokens), so the summed gradient is that of the mean over all selected tokens; the last micro-batch's
    /// backward starts the bucket allreduces. Returns this rank's loss sum and the global masked count.
    func backpropagate(_ plan: StepPlan, _ result: GlobalSelectionResult,
                       times: inout PhaseTimes) throws -> (lossSum: Double, unigramSum: Double, globalMasked: Int) {
        let assigned = GlobalSelection.assignment(result, poolSize: plan.pool.count, rank: communicator.rank,
                                                  size: communicator.size, rebalance: options.rebalance)
        var microBatches: [MLMBatch] = []
        var microBatchPositions: [ArraySlice<Int>] = []
        var microBatchSlots: [[PrefixSlot]?] = []
        var localMasked = 0
        // The unigram model's loss on the same tokens, while `--sift-start-learned` waits for the model.
        var unigramSum = 0.0
        let gating = siftStart.isPending ? reference : nil
        timed(&times.data) {
            inMicroBatches(assigned) { positions in
                let mb = fill(plan.samples(positions), from: train)
                localMasked += mb.maskedTokenCount
                if let gating {
                    unigramSum += mb.labels.withUnsafeBufferPointer { gating.totalLoss(labels: $0.baseAddress!, count: mb.count * mb.seqLen).sum }
                }
                microBatches.append(mb)
                microBatchPositions.append(positions)
            }
        }
        if let prefix, plan.selects {
            microBatchSlots = timed(&times.forwardBackward) { resumeSlots(plan, assigned: assigned, prefix: prefix) }
        }
        watchdog?.enter(.synchronisation, step: step + 1)
        let globalMasked = timed(&times.waiting) { communicator.allreduceSum(localMasked) }
        guard globalMasked > 0 else { throw TrainingError(message: "selected samples have no masked tokens at step \(step + 1)") }

        watchdog?.enter(.forwardBackward, step: step + 1)
        model.gradients.zero()
        var lossSum = 0.0
        // `last-loss`: (pool position, loss, score) of every sample backpropagated here, recorded below.
        var trained: [Float] = []
        let records = options.ranksByTrainingLoss
        let lossWeight = options.faults.lossWeight(1 / Float(globalMasked), rank: communicator.rank, step: step + 1)
        timed(&times.forwardBackward) {
            for (k, mb) in microBatches.enumerated() {
                let last = k == microBatches.count - 1
                let resume = k < microBatchSlots.count ? microBatchSlots[k].map { (prefix: prefix!, slots: $0) } : nil
                let stats = model.forwardBackward(mb, lossWeight: lossWeight, dropoutSeed: dropoutSeed, resumingFrom: resume,
                                                  onGradientsReady: last ? { self.buckets.gradientsReady(from: $0) } : nil)
                for s in stats { lossSum += Double(s.lossSum) }
                if records { trained += trainingRecords(mb, stats: stats, positions: microBatchPositions[k]) }
            }
        }
        watchdog?.enter(.allreduce, step: step + 1)
        times.exposedAllreduce += buckets.finish()
        if records { record(trainingLosses: communicator.allgatherv(trained), pool: plan.pool) }
        return (lossSum, unigramSum, globalMasked)
    }

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

    /// The reducible score of `batch`'s sample `row` with mean loss `loss`: what the model still gets wrong
    /// beyond a unigram model (the loss minus its masked labels' mean −log unigram frequency).
    func reducibleScore(_ loss: Float, _ batch: MLMBatch, row: Int) -> Float {
        let T = batch.seqLen
        return batch.labels.withUnsafeBufferPointer { loss - reference!.meanLoss(labels: $0.baseAddress! + row * T, count: T) }
    }

    /// Stores every rank's training losses of this step (allgathered triples) in the `last-loss` table,
    /// so the table stays the same on every rank.
    func record(trainingLosses all: [Float], pool: [Int]) {
        for i in stride(from: 0, to: all.count, by: 3) {
            staleTable!.record(pool[Int(all[i])], loss: all[i + 1], score: all[i + 2], step: step)
        }
    }

    /// The dropout seed of this step's training forward (and of the scoring forward that it reuses).
    var dropoutSeed: UInt64 { Scorer.dropoutSeed(seed: options.seed, counter: step) }

    /// Prefix slots of each training micro-batch of `assigned` (pool positions, in micro-batch order).
    /// Samples this rank did not score this step (moved here by rebalancing, or with a stale score) get
    /// their prefix computed now, in one extra forward, so every training sample resumes at the exit layer.
    func resumeSlots(_ plan: StepPlan, assigned: [Int], prefix: ActivationPrefix) -> [[PrefixSlot]?] {
        func kept(_ position: Int) -> PrefixSlot? {
            plan.share.contains(position) ? prefixSlots[position - plan.share.lowerBound] : nil
        }
        let missing = assigned.filter { kept($0) == nil }
        var computed: [PrefixSlot] = []   // in the order of `missing`, which keeps `assigned`'s order
        inMicroBatches(missing) { positions in
            let chunk = model.forwardPrefix(fill(plan.samples(positions), from: train), dropoutSeed: dropoutSeed, into: prefix)
            computed += positions.indices.map { PrefixSlot(chunk: chunk, row: $0 - positions.startIndex) }
        }
        var slots: [[PrefixSlot]?] = [], next = 0
        inMicroBatches(assigned) { positions in
            slots.append(positions.map { position in
                if let slot = kept(position) { return slot }
                next += 1
                return computed[next - 1]
            })
        }
        return slots
    }

    /// 4. Clips the summed gradients to `--clip-norm` and applies AdamW at the schedule's rate; a
    /// non-finite norm skips the update (the caller then stops with an error).
    func update(times: inout PhaseTimes) -> (norm: Double, learningRate: Float) {
        watchdog?.enter(.optimizer, step: step + 1)
        return timed(&times.optimizer) { () -> (Double, Float) in
            let norm = globalNorm(model.gradients)
            let scale: Float = norm > Double(options.clipNorm) ? Float(Double(options.clipNorm) / norm) : 1
            let lr = schedule.rate(at: step + 1)
            if norm.isFinite {
                optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: lr,
                                 step: step + 1, gradientScale: scale)
            }
            return (norm, lr)
        }
    }
}
