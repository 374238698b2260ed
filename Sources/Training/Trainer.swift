import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection

/// Result of evaluating the held-out split.
public struct EvaluationResult: Sendable {
    /// Mean cross-entropy over masked tokens, nats.
    public var loss: Double
    /// Correct argmax predictions over masked tokens.
    public var accuracy: Double
    public var maskedTokens: Int
}

/// What a finished run reports.
public struct TrainingSummary: Sendable {
    public var steps: Int
    public var samplesScored: Int
    public var samplesBackpropagated: Int
    public var elapsedSeconds: Double
    public var finalEvaluation: EvaluationResult?
    /// Wall time and backpropagated samples when `--target-accuracy` was first reached.
    public var targetReached: (seconds: Double, samples: Int, step: Int)?
    /// Summed phase times of this rank over the steps of this process.
    public var phaseTimes: PhaseTimes
    public var stepsTimed: Int
    /// The run stopped because a rank received SIGTERM, SIGINT or SIGUSR1 (checkpoint written if a
    /// checkpoint directory was given).
    public var preempted: Bool = false
}

/// The data-parallel SIFT training loop: every rank holds a full replica of the model.
///
/// One step: draw a pool of B = b/ρ candidates from the deterministic stream; each rank scores its
/// share with the early-exit loss; ranks agree on the global top b (`GlobalSelection`); each rank
/// forwards and backpropagates its (rebalanced) part of the selection with loss weight
/// 1/(global masked tokens), so the summed gradient is that of the mean loss over all selected
/// tokens; gradients are summed over ranks in buckets overlapped with backward; every rank applies
/// the same AdamW update. Every random draw is keyed by (seed, step, global sample index), so the
/// selection and the weights do not depend on the number of ranks.
public final class Trainer {
    public let options: TrainingOptions
    public let model: BertForMaskedLM
    public let communicator: any Collectives
    let train: MLMSampleSource
    let validation: MLMSampleSource?
    let vocabHash: String
    let optimizer: AdamW
    let buckets: GradientBuckets
    /// Step-based, or open until fitted to the time budget after calibration (then saved in checkpoints).
    private var schedule: LearningRateSchedule
    private var fittedSchedule: FittedSchedule?
    /// Rolling score history of the `relative` rule (nil for other rules); saved in checkpoints.
    private var history: ScoreHistory?
    /// Each sample's last score, reused for `--stale-scores` steps, or under `last-loss` its training loss
    /// from the last step that backpropagated it (nil when scores are always fresh).
    private var staleTable: StaleScoreTable?
    /// −log unigram frequency per token, for the reducible score and the scoring vocabulary.
    let reference: UnigramReference?
    /// The classes the scoring head computes (`--score-vocabulary`; nil: all).
    let scoringVocabulary: ScoringVocabulary?
    /// The scoring forward's activations, kept for the training forward (`--reuse-scoring-forward`).
    let prefix: ActivationPrefix?
    /// Where each position of this rank's pool share was kept by the scoring forward (nil: not scored
    /// here this step); rewritten every step.
    private var prefixSlots: [PrefixSlot?] = []
    /// Recent step times (slowest rank) while calibrating a budget-fitted schedule.
    private var calibrationTimes: [Double] = []
    let stream: CandidateStream
    let selection: GlobalSelection
    /// Reusable batches indexed by sample count, so steady-state steps allocate none.
    private var batchCache: [MLMBatch?]
    private var step = 0
    private var samplesScored = 0
    private var samplesBackpropagated = 0
    private var elapsedBefore = 0.0
    /// Seconds spent on measurements that must not count as training time (fidelity checks).
    private var offTheClock = 0.0
    private let output: (String) -> Void
    /// Aborts the job when a phase stalls (nil when disabled).
    private let watchdog: Watchdog?

    /// - Parameters:
    ///   - train: training samples (masked at load time, keyed by epoch and global index).
    ///   - validation: held-out samples with fixed masks, or nil to skip evaluation.
    ///   - reference: the unigram reference of the reducible score (required when `options.score` is `.reducible`).
    ///   - output: where rank 0's progress lines go.
    public init(options: TrainingOptions, model: BertForMaskedLM, communicator: any Collectives,
                train: MLMSampleSource, validation: MLMSampleSource?, vocabHash: String,
                reference: UnigramReference? = nil, output: @escaping (String) -> Void) {
        precondition(options.score == .loss || reference != nil, "the reducible score needs a unigram reference")
        precondition(options.scoreVocabulary == 0 || reference?.negativeLogProbability.count == model.config.vocabSize,
                     "--score-vocabulary needs the unigram counts of the model's vocabulary")
        self.reference = reference
        scoringVocabulary = options.scoreVocabulary > 0 && options.policy != .lastLoss
            ? ScoringVocabulary(reference: reference!.negativeLogProbability, size: options.scoreVocabulary) : nil
        self.options = options
        self.model = model
        self.communicator = communicator
        self.train = train
        self.validation = validation
        self.vocabHash = vocabHash
        self.output = output
        optimizer = AdamW(layout: model.layout, weightDecay: options.weightDecay)
        buckets = GradientBuckets(gradients: model.gradients, communicator: communicator,
                                  bucketBytes: options.bucketBytes, overlap: options.overlap)
        schedule = options.fitsScheduleToBudget
            ? .open(peak: options.learningRate, warmupSteps: options.warmupSteps)
            : LearningRateSchedule(peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps)
        history = options.policy != .vanilla && options.effectiveRule == .relative
            ? ScoreHistory(capacity: options.historyLength) : nil
        staleTable = options.policy == .lastLoss ? StaleScoreTable(samples: train.count, maxAge: 1)
            : options.policy.scores && options.staleScores > 0 ? StaleScoreTable(samples: train.count, maxAge: options.staleScores) : nil
        stream = CandidateStream(sampleCount: train.count, seed: options.seed)
        prefix = options.reuseScoringForward && options.policy.scores
            ? model.activationPrefix(depth: options.policy == .exact ? model.config.numLayers : options.exitLayer)
            : nil
        selection = GlobalSelection(communicator: communicator)
        batchCache = Array(repeating: nil, count: max(options.microBatch, options.poolSize) + 1)
        watchdog = options.watchdogSeconds > 0
            ? Watchdog(timeout: options.watchdogSeconds, rank: communicator.rank,
                       peers: communicator.size > 1 ? PeerProbe(communicator: communicator) : nil) { communicator.abort(code: 4) }
            : nil
    }

    private var isRoot: Bool { communicator.isRoot }

    // MARK: - Resume

    /// Loads the newest valid checkpoint (read by rank 0, broadcast to all ranks) if `--resume` was
    /// given and one exists. Every rank returns the same answer.
    public func resumeIfRequested() throws {
        guard options.resume, let dir = options.checkpointDirectory else { return }
        var header: [UInt8] = []
        var loaded: (state: CheckpointState, parameters: FloatBuffer, m: FloatBuffer, v: FloatBuffer, path: String)?
        if isRoot {
            loaded = TrainingCheckpoint.loadNewestValid(directory: dir) { self.output("warning: \($0)") }
            if let l = loaded { header = (try? JSONEncoder().encode(l.state)).map { Array($0) } ?? [] }
        }
        header = communicator.broadcast(header)
        if header.isEmpty {
            if isRoot { output("no valid checkpoint in \(dir); starting from step 0") }
            return
        }
        let state = try JSONDecoder().decode(CheckpointState.self, from: Data(header))
        guard state.config == model.config else {
            throw TrainingError(message: "checkpoint in \(dir) was written for a different model configuration")
        }
        guard state.runFingerprint == options.fingerprint else {
            throw TrainingError(message: "checkpoint in \(dir) was written with different settings (\(state.runFingerprint)); this run has (\(options.fingerprint))")
        }
        for (k, target) in [model.parameters, optimizer.m, optimizer.v].enumerated() {
            if let l = loaded { target.copy(from: [l.parameters, l.m, l.v][k]) }
            communicator.broadcast(target.pointer, count: target.count)
        }
        step = state.step
        samplesScored = state.samplesScored
        samplesBackpropagated = state.samplesBackpropagated
        elapsedBefore = state.elapsedSeconds
        if let f = state.fittedSchedule { fixSchedule(f) }
        if history != nil { history = ScoreHistory(capacity: options.historyLength, values: state.scoreHistory ?? []) }
        if let snapshot = state.staleScores, staleTable != nil {
            guard let table = StaleScoreTable(snapshot: snapshot, samples: train.count) else {
                throw TrainingError(message: "checkpoint in \(dir) holds a stale-score table that does not fit the \(train.count) training samples")
            }
            staleTable = table
        }
        if isRoot { output("resumed from \(loaded!.path) at step \(step)") }
    }

    // MARK: - Batches

    /// A batch of `count` rows to fill: the cached one, taken out of the cache so that filling it
    /// writes in place (a copy still held by the cache would make every write copy the arrays).
    private func batch(count: Int) -> MLMBatch {
        if count < batchCache.count, let b = batchCache[count] { batchCache[count] = nil; return b }
        return MLMBatch(count: count, seqLen: train.seqLen)
    }

    /// Fills a batch with the given global samples (index, epoch) from `source`; with `positions`,
    /// keeps at most `limit` masked positions per sample (`ScoringPositions`, keyed by `key`).
    private func fill(_ samples: ArraySlice<(index: Int, epoch: Int)>, from source: MLMSampleSource,
                      positions: (limit: Int, key: UInt64)? = nil) -> MLMBatch {
        var b = batch(count: samples.count)
        b.fill(samples, from: source, positions: positions)
        if samples.count < batchCache.count { batchCache[samples.count] = b }
        return b
    }

    // MARK: - Evaluation

    /// Validation MLM loss and accuracy over the first `evalSamples` held-out samples, spread over ranks.
    public func evaluate() -> EvaluationResult? {
        guard let validation else { return nil }
        watchdog?.enter(.evaluation, step: step)
        let n = min(options.evalSamples ?? validation.count, validation.count)
        let mine = GlobalSelection.share(poolSize: n, rank: communicator.rank, size: communicator.size)
        var sums = [0.0, 0.0, 0.0]
        inMicroBatches(Array(mine)) { indices in
            let b = fill(indices.map { (index: $0, epoch: 0) }[...], from: validation)
            for s in model.evaluate(b, exitLayer: model.config.numLayers) {
                sums[0] += Double(s.lossSum); sums[1] += Double(s.maskedTokens); sums[2] += Double(s.correct)
            }
        }
        sums = communicator.allreduceSum(sums)
        guard sums[1] > 0 else { return EvaluationResult(loss: 0, accuracy: 0, maskedTokens: 0) }
        return EvaluationResult(loss: sums[0] / sums[1], accuracy: sums[2] / sums[1], maskedTokens: Int(sums[1]))
    }

    // MARK: - The step

    /// One step's candidates: the pool drawn from the stream, their epochs, this rank's share of pool
    /// positions, the policy in force (vanilla during the sifting delay) and which positions need a
    /// fresh score (false: a stale score is reused). The same on every rank but for `share`.
    struct StepPlan {
        var pool: [Int]
        var epochs: [Int]
        var share: Range<Int>
        var policy: SelectionPolicy
        var fresh: [Bool]

        /// (global index, epoch) of pool positions, as `fill` takes them.
        func samples<C: Collection<Int>>(_ positions: C) -> ArraySlice<(index: Int, epoch: Int)> {
            positions.map { (index: pool[$0], epoch: epochs[$0]) }[...]
        }
    }

    private func planStep() -> StepPlan {
        let B = options.poolSize(atStep: step)
        let policy: SelectionPolicy = options.selects(atStep: step) ? options.policy : .vanilla
        let (pool, epochs) = stream.candidates(from: options.streamStart(atStep: step), count: B)
        let fresh: [Bool] = policy.scores ? pool.map { staleTable?.needsScore($0, step: step) ?? true } : []
        return StepPlan(pool: pool, epochs: epochs, share: GlobalSelection.share(poolSize: B, rank: communicator.rank, size: communicator.size),
                        policy: policy, fresh: fresh)
    }

    /// Calls `body` on consecutive pieces of `items` of at most `--micro-batch` elements.
    private func inMicroBatches<T>(_ items: [T], _ body: (ArraySlice<T>) throws -> Void) rethrows {
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
        if options.faults.stallRank == communicator.rank && options.faults.stallStep == step + 1 {
            while true { Thread.sleep(forTimeInterval: 3600) }
        }
        let (losses, scores) = score(plan, times: &times)
        watchdog?.enter(.selection, step: step + 1)
        let result = try select(plan, losses: losses, scores: scores, times: &times)
        let fidelity = options.fidelityEvery > 0 && (step + 1) % options.fidelityEvery == 0 && plan.policy.selects
            ? measureFidelity(plan, result) : nil
        let (lossSum, globalMasked) = try backpropagate(plan, result, times: &times)
        let (norm, lr) = update(times: &times)
        watchdog?.enter(.synchronisation, step: step + 1)
        let totals = timed(&times.waiting) { communicator.allreduceSum([lossSum]) }
        let trainLoss = totals[0] / Double(globalMasked)
        if !norm.isFinite || !trainLoss.isFinite {
            throw TrainingError(message: "non-finite \(norm.isFinite ? "loss" : "gradient norm") at step \(step + 1): training has diverged (lower --lr?)")
        }

        step += 1
        samplesScored += plan.fresh.lazy.filter { $0 }.count
        samplesBackpropagated += options.batchSize
        let selectedLosses = result.poolLosses.isEmpty ? [] : result.selectedPositions.map { result.poolLosses[$0] }
        var record = StepRecord(step: step, trainLoss: trainLoss, learningRate: lr, gradientNorm: norm,
                                threshold: result.threshold,
                                meanCandidateLoss: mean(result.poolLosses), meanSelectedLoss: mean(selectedLosses),
                                selectedPerRank: result.selectedPerRank, imbalance: result.imbalance,
                                maskedTokens: globalMasked, tokens: options.batchSize * train.seqLen, fidelity: fidelity)
        if options.selectionLogPath != nil {
            record.selection = SelectionTrace(pool: plan.pool, losses: result.poolLosses,
                                              scores: scores == nil ? nil : result.poolScores,
                                              selected: result.selectedPositions.map { plan.pool[$0] })
        }
        return record
    }

    /// 1. Scores this rank's share of the pool at the exit layer (the last layer for `exact`): the
    /// approximate losses and, for `--score reducible`, the scores; stale entries come from the table.
    private func score(_ plan: StepPlan, times: inout PhaseTimes) -> (losses: [Float], scores: [Float]?) {
        guard plan.policy.selects else { return ([], nil) }
        let reducible = options.score == .reducible
        if plan.policy == .lastLoss, let table = staleTable {
            // No forward: each candidate's training loss from its last backpropagation, +∞ if it has none.
            let entries = plan.share.map { table.isRecorded(plan.pool[$0]) ? table.entry(plan.pool[$0]) : (Float.infinity, Float.infinity) }
            return (entries.map(\.0), reducible ? entries.map(\.1) : nil)
        }
        var losses = [Float](repeating: 0, count: plan.share.count)
        var scores: [Float]? = reducible ? losses : nil
        let exit = plan.policy == .exact ? model.config.numLayers : options.exitLayer
        let toScore = plan.share.filter { plan.fresh[$0] }
        let vocabulary = plan.policy == .exact ? nil : scoringVocabulary
        // --score-positions: the approximate loss from a random subset of each sample's masked positions.
        let thin = options.scorePositions > 0 && plan.policy != .exact
            ? (limit: options.scorePositions, key: CounterHash.bits(options.seed, 0x5C0E, UInt64(step), 0)) : nil
        prefix?.reset()
        prefixSlots = Array(repeating: nil, count: plan.share.count)
        inMicroBatches(toScore) { positions in
            let batch = timed(&times.data) { fill(plan.samples(positions), from: train, positions: thin) }
            let fresh = timed(&times.scoring) { () -> [Float] in
                guard let prefix else { return model.approximateLosses(batch, exitLayer: exit, vocabulary: vocabulary) }
                let (scored, chunk) = model.scoreKeepingPrefix(batch, dropoutSeed: dropoutSeed, into: prefix,
                                                               vocabulary: vocabulary)
                for row in 0..<batch.count {
                    prefixSlots[positions[positions.startIndex + row] - plan.share.lowerBound] = PrefixSlot(chunk: chunk, row: row)
                }
                return scored.map(\.meanLoss)
            }
            for (row, loss) in fresh.enumerated() {
                let at = positions[positions.startIndex + row] - plan.share.lowerBound
                losses[at] = loss
                if reducible { scores![at] = reducibleScore(loss, batch, row: row) }
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

    /// 2. Agrees on the global selection (one allgather), updates the stale-score table with the fresh scores.
    private func select(_ plan: StepPlan, losses: [Float], scores: [Float]?, times: inout PhaseTimes) throws -> GlobalSelectionResult {
        let result = timed(&times.selection) {
            selection.select(localLosses: losses, localScores: scores, pool: plan.pool, count: options.batchSize,
                             policy: plan.policy, rule: options.effectiveRule, history: &history, beta: options.beta,
                             seed: options.seed, step: step)
        }
        // +∞ is allowed only as a `last-loss` candidate without a recorded loss.
        if result.poolLosses.contains(where: { !$0.isFinite && !(plan.policy == .lastLoss && $0 == .infinity) }) {
            throw TrainingError(message: "non-finite approximate loss at step \(step + 1): training has diverged (lower --lr?)")
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
    private func measureFidelity(_ plan: StepPlan, _ result: GlobalSelectionResult) -> (spearman: Double?, overlap: Double) {
        let t0 = Date()
        var exact: [Float] = []
        inMicroBatches(Array(plan.share)) { positions in
            exact += model.approximateLosses(fill(plan.samples(positions), from: train), exitLayer: model.config.numLayers)
        }
        let all = communicator.allgatherv(exact)
        let fidelity = (SelectionFidelity.spearman(result.poolLosses, all),
                        SelectionFidelity.topOverlap(approximate: result.poolLosses, exact: all, globalIndices: plan.pool, count: options.batchSize))
        offTheClock += communicator.allreduceMax(Date().timeIntervalSince(t0))
        return fidelity
    }

    /// 3. Forward and backward of this rank's part of the selection with loss weight 1/(global masked
    /// tokens), so the summed gradient is that of the mean over all selected tokens; the last micro-batch's
    /// backward starts the bucket allreduces. Returns this rank's loss sum and the global masked count.
    private func backpropagate(_ plan: StepPlan, _ result: GlobalSelectionResult, times: inout PhaseTimes) throws -> (lossSum: Double, globalMasked: Int) {
        let assigned = GlobalSelection.assignment(result, poolSize: plan.pool.count, rank: communicator.rank,
                                                  size: communicator.size, rebalance: options.rebalance)
        var microBatches: [MLMBatch] = []
        var microBatchPositions: [ArraySlice<Int>] = []
        var microBatchSlots: [[PrefixSlot]?] = []
        var localMasked = 0
        timed(&times.data) {
            inMicroBatches(assigned) { positions in
                let mb = fill(plan.samples(positions), from: train)
                localMasked += mb.maskedTokenCount
                microBatches.append(mb)
                microBatchPositions.append(positions)
            }
        }
        if let prefix, plan.policy.scores {
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
        let records = options.policy == .lastLoss
        // Fault injection: rank 0's gradients become NaN through its loss weight, before any bucket's
        // allreduce starts (writing into the buffer afterwards would race with the in-place reduction).
        let lossWeight: Float = options.faults.nanStep == step + 1 && communicator.rank == 0 ? .nan : 1 / Float(globalMasked)
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
        return (lossSum, globalMasked)
    }

    /// (pool position, mean training loss, score) triples of one trained micro-batch, flattened; the score
    /// is the loss, or for `--score reducible` the loss minus the masked labels' unigram reference loss.
    private func trainingRecords(_ mb: MLMBatch, stats: [SampleLoss], positions: ArraySlice<Int>) -> [Float] {
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
    private func reducibleScore(_ loss: Float, _ batch: MLMBatch, row: Int) -> Float {
        let T = batch.seqLen
        return batch.labels.withUnsafeBufferPointer { loss - reference!.meanLoss(labels: $0.baseAddress! + row * T, count: T) }
    }

    /// Stores every rank's training losses of this step (allgathered triples) in the `last-loss` table,
    /// so the table stays the same on every rank.
    private func record(trainingLosses all: [Float], pool: [Int]) {
        for i in stride(from: 0, to: all.count, by: 3) {
            staleTable!.record(pool[Int(all[i])], loss: all[i + 1], score: all[i + 2], step: step)
        }
    }

    /// The dropout seed of this step's training forward (and of the scoring forward that it reuses).
    private var dropoutSeed: UInt64 { CounterHash.bits(options.seed, 0xD809, UInt64(step), 0) }

    /// Prefix slots of each training micro-batch of `assigned` (pool positions, in micro-batch order).
    /// Samples this rank did not score this step (moved here by rebalancing, or with a stale score) get
    /// their prefix computed now, in one extra forward, so every training sample resumes at the exit layer.
    private func resumeSlots(_ plan: StepPlan, assigned: [Int], prefix: ActivationPrefix) -> [[PrefixSlot]?] {
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
    private func update(times: inout PhaseTimes) -> (norm: Double, learningRate: Float) {
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

    /// Mean of the finite values (a `last-loss` pool holds +∞ for samples never backpropagated).
    private func mean(_ xs: [Float]) -> Double? {
        let finite = xs.filter(\.isFinite)
        return finite.isEmpty ? nil : finite.reduce(0.0) { $0 + Double($1) } / Double(finite.count)
    }

    // MARK: - The loop

    /// Trains until `--steps`, `--time-budget`, `--target-accuracy`, `--stop-after` or a preemption
    /// signal stops it, evaluating, checkpointing and reporting along the way.
    public func run() throws -> TrainingSummary {
        let observer = try StepObserver(options: options, isRoot: isRoot, output: output)
        let started = Date()
        var totalTimes = PhaseTimes()
        var stepsTimed = 0
        var targetReached: (seconds: Double, samples: Int, step: Int)?
        let firstStep = step

        func elapsed() -> Double { elapsedBefore + Date().timeIntervalSince(started) - offTheClock }
        // The training clock at the end of the last step (agreed across ranks): the final evaluation and the
        // summary are stamped with it, so measuring the result does not count as training time.
        var trainedFor = elapsedBefore

        while step < stepLimit {
            var times = PhaseTimes()
            let t0 = Date()
            let offBefore = offTheClock
            let record = try trainStep(times: &times)
            let stepSeconds = Date().timeIntervalSince(t0) - (offTheClock - offBefore)
            if options.fitsScheduleToBudget && fittedSchedule == nil {
                calibrate(stepSeconds: stepSeconds, elapsed: elapsed())
            }
            totalTimes.add(times)
            stepsTimed += 1
            if options.faults.stepDelay > 0 { Thread.sleep(forTimeInterval: options.faults.stepDelay) }
            if options.faults.divergeRank == communicator.rank && options.faults.divergeStep == step { model.parameters[0] += 1 }

            if options.checkReplicasEvery > 0 && step % options.checkReplicasEvery == 0 {
                try checkReplicas()
            }
            var evaluation: EvaluationResult?
            if options.evalEvery > 0 && step % options.evalEvery == 0 && step < stepLimit {
                // Evaluation is measurement, not training: its time is kept off the clock.
                let e0 = Date()
                evaluation = evaluate()
                offTheClock += communicator.allreduceMax(Date().timeIntervalSince(e0))
            }
            // Every rank must take the same stop decision: the slowest rank's clock, and whether any rank
            // was asked to stop (preemption), agreed in one collective.
            let agreed = communicator.allreduceMax([elapsed(), Double(Preemption.requested)])
            let now = agreed[0]
            let preempted = agreed[1] > 0
            trainedFor = now
            refit(now: now)
            if let e = evaluation, let target = options.targetAccuracy, e.accuracy >= target, targetReached == nil {
                targetReached = (now, samplesBackpropagated, step)
            }
            observer.stepFinished(record, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                                  elapsed: now, runElapsed: now - elapsedBefore, stepsDone: step - firstStep,
                                  total: options.fitsScheduleToBudget ? (fittedSchedule?.totalSteps ?? 0) : options.steps,
                                  times: times, evaluation: evaluation, ranks: communicator.size,
                                  tokensPerSecond: Double(record.tokens) / stepSeconds)

            let outOfTime = options.timeBudget.map { now >= $0 } ?? false
            let paused = options.stopAfter.map { step >= $0 } ?? false
            let stop = outOfTime || targetReached != nil || paused || preempted
            if let dir = options.checkpointDirectory,
               (options.checkpointEvery > 0 && step % options.checkpointEvery == 0) || stop || step == stepLimit {
                try saveCheckpoint(directory: dir, elapsed: now)
            }
            if stop {
                observer.say(preempted ? "preempted at step \(step); continue with --resume"
                             : paused ? "stopped after step \(step) as asked (--stop-after); continue with --resume"
                             : outOfTime ? "time budget of \(Int(options.timeBudget!)) s reached at step \(step)"
                             : String(format: "target accuracy %.1f%% reached at step %d after %.1f s and %d backpropagated samples",
                                      100 * options.targetAccuracy!, step, targetReached!.seconds, targetReached!.samples))
                if preempted {
                    // No final evaluation: the scheduler's grace period is for the checkpoint.
                    watchdog?.stop()
                    return TrainingSummary(steps: step, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                                           elapsedSeconds: trainedFor, finalEvaluation: nil, targetReached: nil,
                                           phaseTimes: totalTimes, stepsTimed: stepsTimed, preempted: true)
                }
                break
            }
        }
        observer.finish()
        let final = evaluate()
        watchdog?.stop()
        if let f = final { observer.finished(step: step, final: f, elapsed: trainedFor) }
        return TrainingSummary(steps: step, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                               elapsedSeconds: trainedFor, finalEvaluation: final, targetReached: targetReached,
                               phaseTimes: totalTimes, stepsTimed: stepsTimed)
    }

    /// The step the loop runs to: `--steps`, or the fitted schedule's length once known.
    private var stepLimit: Int {
        guard options.fitsScheduleToBudget else { return options.steps }
        return min(options.steps, fittedSchedule?.totalSteps ?? Int.max)
    }

    private func fixSchedule(_ f: FittedSchedule) {
        fittedSchedule = f
        schedule = LearningRateSchedule(peak: options.learningRate, warmupSteps: options.warmupSteps,
                                        totalSteps: f.totalSteps, decayStart: f.decayStart, decayStartRate: f.startRate)
    }

    /// Times the steps up to `options.calibrationEnd` and then fixes the schedule's length so that it
    /// ends with the time budget: remaining budget / mean step time of the last `calibrationSteps`
    /// steps (the slowest rank's; every rank computes the same length). The rate decays from there.
    private func calibrate(stepSeconds: Double, elapsed: Double) {
        guard step > options.calibrationEnd - options.calibrationSteps else { return }
        calibrationTimes.append(communicator.allreduceMax(stepSeconds))
        guard step >= options.calibrationEnd, let budget = options.timeBudget else { return }
        let perStep = calibrationTimes.reduce(0, +) / Double(calibrationTimes.count)
        let now = communicator.allreduceMax(elapsed)
        let remaining = max(1, Int(((budget - now) / max(perStep, 1e-6)).rounded(.down)))
        fixSchedule(FittedSchedule(totalSteps: step + remaining, decayStart: step, fittedAt: now))
        if isRoot {
            output(String(format: "schedule fitted to the %.0f s budget: %d steps (%.3f s per step over steps %d–%d); the learning rate decays from step %d",
                          budget, step + remaining, perStep, step - calibrationTimes.count + 1, step, step))
        }
    }

    /// Every `--schedule-refit-every` steps after the fit: the remaining budget over the mean step time
    /// since the last fit (the agreed clock `now`, the same on every rank) gives the schedule a new end,
    /// and the rate decays linearly from its value at this step to 0 there.
    private func refit(now: Double) {
        guard options.fitsScheduleToBudget, options.scheduleRefitEvery > 0, let budget = options.timeBudget,
              let f = fittedSchedule, let since = f.fittedAt, step - f.decayStart >= options.scheduleRefitEvery,
              step < f.totalSteps else { return }
        let perStep = (now - since) / Double(step - f.decayStart)
        let total = step + max(1, Int(((budget - now) / max(perStep, 1e-6)).rounded(.down)))
        fixSchedule(FittedSchedule(totalSteps: total, decayStart: step, startRate: schedule.rate(at: step), fittedAt: now))
        if isRoot && total != f.totalSteps {
            output(String(format: "schedule re-fitted at step %d: %d steps (%.3f s per step since step %d)", step, total, perStep, f.decayStart))
        }
    }

    /// Stops every rank with an error if the replicas' weights differ.
    func checkReplicas() throws {
        var c = Checksum64()
        c.update(UnsafeRawPointer(model.parameters.pointer), count: model.parameters.count * 4)
        let all = communicator.allgather(c.value)
        if Set(all).count > 1 {
            let bad = all.indices.filter { all[$0] != all[0] }
            throw TrainingError(message: "model replicas diverged at step \(step): ranks \(bad) differ from rank 0")
        }
    }

    /// Rank 0 writes a checkpoint; every rank learns whether it succeeded.
    func saveCheckpoint(directory: String, elapsed: Double) throws {
        watchdog?.enter(.checkpoint, step: step)
        var failure: String?
        if isRoot {
            var state = CheckpointState(config: model.config, step: step, seed: options.seed,
                                        samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                                        elapsedSeconds: elapsed, runFingerprint: options.fingerprint, vocabHash: vocabHash)
            state.fittedSchedule = fittedSchedule
            state.scoreHistory = history?.values
            state.staleScores = staleTable?.snapshot
            do {
                try TrainingCheckpoint.save(state: state, parameters: model.parameters, m: optimizer.m, v: optimizer.v,
                                            directory: directory, keep: options.keepCheckpoints,
                                            pauseSeconds: options.faults.savePause)
            } catch {
                failure = "\(error)"
            }
        }
        if !communicator.allAgree(failure == nil) {
            throw TrainingError(message: "checkpoint at step \(step) could not be written\(failure.map { ": " + $0 } ?? " (see rank 0)"); older checkpoints are kept")
        }
    }
}
