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
    public let communicator: Communicator
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
    /// Each sample's last score, reused for `--stale-scores` steps (nil when scores are always fresh).
    private var staleTable: StaleScoreTable?
    /// −log unigram frequency per token, for the reducible score.
    let reference: UnigramReference?
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
    public init(options: TrainingOptions, model: BertForMaskedLM, communicator: Communicator,
                train: MLMSampleSource, validation: MLMSampleSource?, vocabHash: String,
                reference: UnigramReference? = nil, output: @escaping (String) -> Void) {
        precondition(options.score == .loss || reference != nil, "the reducible score needs a unigram reference")
        self.reference = reference
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
        staleTable = options.policy != .vanilla && options.staleScores > 0
            ? StaleScoreTable(samples: train.count, maxAge: options.staleScores) : nil
        stream = CandidateStream(sampleCount: train.count, seed: options.seed)
        selection = GlobalSelection(communicator: communicator)
        batchCache = Array(repeating: nil, count: max(options.microBatch, options.poolSize) + 1)
        watchdog = options.watchdogSeconds > 0
            ? Watchdog(timeout: options.watchdogSeconds, rank: communicator.rank) { communicator.abort(code: 4) }
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

    private func batch(count: Int) -> MLMBatch {
        if count < batchCache.count, let b = batchCache[count] { return b }
        let b = MLMBatch(count: count, seqLen: train.seqLen)
        if count < batchCache.count { batchCache[count] = b }
        return b
    }

    /// Fills a batch with the given global samples (index, epoch) from `source`.
    private func fill(_ samples: ArraySlice<(index: Int, epoch: Int)>, from source: MLMSampleSource) -> MLMBatch {
        var b = batch(count: samples.count)
        let T = source.seqLen
        b.inputIds.withUnsafeMutableBufferPointer { ids in
            b.tokenTypeIds.withUnsafeMutableBufferPointer { types in
                b.attentionMask.withUnsafeMutableBufferPointer { mask in
                    b.labels.withUnsafeMutableBufferPointer { labels in
                        for (row, s) in samples.enumerated() {
                            source.fill(index: s.index, epoch: s.epoch,
                                        inputIds: ids.baseAddress! + row * T,
                                        tokenTypeIds: types.baseAddress! + row * T,
                                        attentionMask: mask.baseAddress! + row * T,
                                        labels: labels.baseAddress! + row * T)
                        }
                    }
                }
            }
        }
        for (row, s) in samples.enumerated() { b.sampleIndices[row] = s.index }
        return b
    }

    private static func maskedCount(_ b: MLMBatch) -> Int {
        var n = 0
        for l in b.labels where l != -100 { n += 1 }
        return n
    }

    // MARK: - Evaluation

    /// Validation MLM loss and accuracy over the first `evalSamples` held-out samples, spread over ranks.
    public func evaluate() -> EvaluationResult? {
        guard let validation else { return nil }
        watchdog?.enter(.evaluation, step: step)
        let n = min(options.evalSamples ?? validation.count, validation.count)
        let mine = GlobalSelection.share(poolSize: n, rank: communicator.rank, size: communicator.size)
        var sums = [0.0, 0.0, 0.0]
        var start = mine.lowerBound
        while start < mine.upperBound {
            let end = min(start + options.microBatch, mine.upperBound)
            let samples = (start..<end).map { (index: $0, epoch: 0) }
            let b = fill(samples[...], from: validation)
            for s in model.evaluate(b, exitLayer: model.config.numLayers) {
                sums[0] += Double(s.lossSum); sums[1] += Double(s.maskedTokens); sums[2] += Double(s.correct)
            }
            start = end
        }
        sums = communicator.allreduceSum(sums)
        guard sums[1] > 0 else { return EvaluationResult(loss: 0, accuracy: 0, maskedTokens: 0) }
        return EvaluationResult(loss: sums[0] / sums[1], accuracy: sums[2] / sums[1], maskedTokens: Int(sums[1]))
    }

    // MARK: - The step

    /// Runs one optimizer step and returns its statistics (identical on every rank except `times`).
    func trainStep(times: inout PhaseTimes, selectionLog: JSONLinesWriter?) throws -> StepRecord {
        let p = communicator.size, rank = communicator.rank
        let B = options.poolSize(atStep: step), b = options.batchSize
        let policy: SelectionPolicy = options.selects(atStep: step) ? options.policy : .vanilla
        let (pool, epochs) = stream.candidates(from: options.streamStart(atStep: step), count: B)
        let share = GlobalSelection.share(poolSize: B, rank: rank, size: p)
        let stepNumber = step + 1
        watchdog?.enter(.scoring, step: stepNumber)
        if options.debugStallRank == rank && options.debugStallStep == stepNumber {
            while true { Thread.sleep(forTimeInterval: 3600) }
        }

        // 1. Score this rank's share of the pool at the exit layer.
        // Pool positions that need a fresh score: all of them, unless a recent enough score is stored
        // (the table is the same on every rank, so every rank knows which).
        let fresh: [Bool] = policy.scores ? pool.map { staleTable?.needsScore($0, step: step) ?? true } : []
        let reducible = options.score == .reducible && policy.scores
        var localLosses = [Float](repeating: 0, count: policy.scores ? share.count : 0)
        var localScores: [Float]? = reducible ? [Float](repeating: 0, count: share.count) : nil
        if policy.scores {
            let exit = policy == .exact ? model.config.numLayers : options.exitLayer
            let toScore = share.filter { fresh[$0] }
            var start = 0
            while start < toScore.count {
                let end = min(start + options.microBatch, toScore.count)
                let samples = toScore[start..<end].map { (index: pool[$0], epoch: epochs[$0]) }
                let batch = timed(&times.data) { fill(samples[...], from: train) }
                let losses = timed(&times.scoring) { model.approximateLosses(batch, exitLayer: exit) }
                for (row, loss) in losses.enumerated() {
                    let at = toScore[start + row] - share.lowerBound
                    localLosses[at] = loss
                    if reducible, let reference {
                        // Reducible score: what the model still gets wrong beyond a unigram model.
                        let T = batch.seqLen
                        localScores![at] = batch.labels.withUnsafeBufferPointer {
                            loss - reference.meanLoss(labels: $0.baseAddress! + row * T, count: T)
                        }
                    }
                }
                start = end
            }
            if let table = staleTable {
                for position in share where !fresh[position] {
                    let e = table.entry(pool[position])
                    localLosses[position - share.lowerBound] = e.loss
                    if reducible { localScores![position - share.lowerBound] = e.score }
                }
            }
        }

        // 2. Agree on the global selection.
        watchdog?.enter(.selection, step: stepNumber)
        let result = timed(&times.selection) {
            selection.select(localLosses: localLosses, localScores: localScores, pool: pool, count: b, policy: policy,
                             rule: options.effectiveRule, history: &history, beta: options.beta,
                             seed: options.seed, step: step)
        }
        if result.poolLosses.contains(where: { !$0.isFinite }) {
            throw TrainingError(message: "non-finite approximate loss at step \(step + 1): training has diverged (lower --lr?)")
        }
        // Off the clock (the caller subtracts it): exact losses of the same pool, to log fidelity.
        var fidelity: (spearman: Double?, overlap: Double)?
        if options.fidelityEvery > 0 && (step + 1) % options.fidelityEvery == 0 && policy.scores {
            let t0 = Date()
            var exact: [Float] = []
            var start = share.lowerBound
            while start < share.upperBound {
                let end = min(start + options.microBatch, share.upperBound)
                let samples = (start..<end).map { (index: pool[$0], epoch: epochs[$0]) }
                exact += model.approximateLosses(fill(samples[...], from: train), exitLayer: model.config.numLayers)
                start = end
            }
            let allExact = communicator.allgatherv(exact)
            fidelity = (SelectionFidelity.spearman(result.poolLosses, allExact),
                        SelectionFidelity.topOverlap(approximate: result.poolLosses, exact: allExact, globalIndices: pool, count: b))
            offTheClock += communicator.allreduceMax(Date().timeIntervalSince(t0))
        }
        let freshCount = fresh.lazy.filter { $0 }.count
        if staleTable != nil {
            for (position, isFresh) in fresh.enumerated() where isFresh {
                staleTable!.record(pool[position], loss: result.poolLosses[position], score: result.poolScores[position], step: step)
            }
        }
        let assigned = GlobalSelection.assignment(result, poolSize: B, rank: rank, size: p, rebalance: options.rebalance)

        // 3. Fill the micro-batches and agree on the global number of masked tokens (the loss normaliser).
        var microBatches: [MLMBatch] = []
        var localMasked = 0
        timed(&times.data) {
            var start = 0
            while start < assigned.count {
                let end = min(start + options.microBatch, assigned.count)
                let samples = assigned[start..<end].map { (index: pool[$0], epoch: epochs[$0]) }
                let mb = fill(samples[...], from: train)
                localMasked += Trainer.maskedCount(mb)
                microBatches.append(mb)
                start = end
            }
        }
        watchdog?.enter(.synchronisation, step: stepNumber)
        let globalMasked = timed(&times.waiting) { communicator.allreduceSum(localMasked) }
        guard globalMasked > 0 else { throw TrainingError(message: "selected samples have no masked tokens at step \(step + 1)") }

        // 4. Forward and backward; the last micro-batch's backward starts the bucket allreduces.
        watchdog?.enter(.forwardBackward, step: stepNumber)
        model.gradients.zero()
        let dropoutSeed = CounterHash.bits(options.seed, 0xD809, UInt64(step), 0)
        var lossSum = 0.0
        // Fault injection: rank 0's gradients become NaN through its loss weight, before any bucket's
        // allreduce starts (writing into the buffer afterwards would race with the in-place reduction).
        let lossWeight: Float = options.debugNaNStep == stepNumber && rank == 0 ? .nan : 1 / Float(globalMasked)
        timed(&times.forwardBackward) {
            for (k, mb) in microBatches.enumerated() {
                let last = k == microBatches.count - 1
                let stats = model.forwardBackward(mb, lossWeight: lossWeight, dropoutSeed: dropoutSeed,
                                                  onGradientsReady: last ? { self.buckets.gradientsReady(from: $0) } : nil)
                for s in stats { lossSum += Double(s.lossSum) }
            }
        }
        watchdog?.enter(.allreduce, step: stepNumber)
        times.exposedAllreduce += buckets.finish()
        watchdog?.enter(.optimizer, step: stepNumber)

        // 5. Clip and update.
        let (norm, lr) = timed(&times.optimizer) { () -> (Double, Float) in
            let norm = globalNorm(model.gradients)
            let scale: Float = norm > Double(options.clipNorm) ? Float(Double(options.clipNorm) / norm) : 1
            let lr = schedule.rate(at: step + 1)
            if norm.isFinite {
                optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: lr,
                                 step: step + 1, gradientScale: scale)
            }
            return (norm, lr)
        }
        watchdog?.enter(.synchronisation, step: stepNumber)
        let totals = timed(&times.waiting) { communicator.allreduceSum([lossSum]) }
        let trainLoss = totals[0] / Double(globalMasked)
        if !norm.isFinite || !trainLoss.isFinite {
            throw TrainingError(message: "non-finite \(norm.isFinite ? "loss" : "gradient norm") at step \(step + 1): training has diverged (lower --lr?)")
        }

        step += 1
        samplesScored += freshCount
        samplesBackpropagated += b
        let selectedLosses = result.poolLosses.isEmpty ? [] : result.selectedPositions.map { result.poolLosses[$0] }
        if let log = selectionLog {
            let poolJSON = pool.map(String.init).joined(separator: ",")
            let lossJSON = result.poolLosses.map { String(format: "%.9g", $0) }.joined(separator: ",")
            let selJSON = result.selectedPositions.map { String(pool[$0]) }.joined(separator: ",")
            let scoreJSON = localScores == nil ? "" : ",\"scores\":[" + result.poolScores.map { String(format: "%.9g", $0) }.joined(separator: ",") + "]"
            log.write("{\"step\":\(step),\"pool\":[\(poolJSON)],\"losses\":[\(lossJSON)]\(scoreJSON),\"selected\":[\(selJSON)]}")
        }
        return StepRecord(step: step, trainLoss: trainLoss, learningRate: lr, gradientNorm: norm,
                          threshold: result.threshold,
                          meanCandidateLoss: mean(result.poolLosses), meanSelectedLoss: mean(selectedLosses),
                          selectedPerRank: result.selectedPerRank, imbalance: result.imbalance,
                          maskedTokens: globalMasked, tokens: b * train.seqLen, fidelity: fidelity)
    }

    private func mean(_ xs: [Float]) -> Double? {
        xs.isEmpty ? nil : xs.reduce(0.0) { $0 + Double($1) } / Double(xs.count)
    }

    // MARK: - The loop

    /// Trains until `--steps`, `--time-budget` or `--target-accuracy` stops it, evaluating,
    /// checkpointing and logging along the way.
    public func run() throws -> TrainingSummary {
        let metrics = try isRoot ? options.metricsPath.map { try JSONLinesWriter(path: $0, append: options.resume) } : nil
        let selectionLog = try isRoot ? options.selectionLogPath.map { try JSONLinesWriter(path: $0, append: options.resume) } : nil
        let progress = ProgressLine(enabled: isRoot, output: output)
        let started = Date()
        var totalTimes = PhaseTimes()
        var stepsTimed = 0
        var lastEval: EvaluationResult?
        var targetReached: (seconds: Double, samples: Int, step: Int)?
        let firstStep = step
        var lastTokensPerSecond = 0.0

        func elapsed() -> Double { elapsedBefore + Date().timeIntervalSince(started) - offTheClock }

        while step < stepLimit {
            var times = PhaseTimes()
            let t0 = Date()
            let offBefore = offTheClock
            let record = try trainStep(times: &times, selectionLog: selectionLog)
            let stepSeconds = Date().timeIntervalSince(t0) - (offTheClock - offBefore)
            if options.fitsScheduleToBudget && fittedSchedule == nil {
                calibrate(stepSeconds: stepSeconds, elapsed: elapsed())
            }
            totalTimes.add(times)
            stepsTimed += 1
            lastTokensPerSecond = Double(record.tokens) / stepSeconds
            if options.debugStepDelay > 0 { Thread.sleep(forTimeInterval: options.debugStepDelay) }

            if options.checkReplicasEvery > 0 && step % options.checkReplicasEvery == 0 {
                try checkReplicas()
            }
            var evaluation: EvaluationResult?
            if options.evalEvery > 0 && step % options.evalEvery == 0 && step < stepLimit {
                // Evaluation is measurement, not training: its time is kept off the clock.
                let e0 = Date()
                evaluation = evaluate()
                offTheClock += communicator.allreduceMax(Date().timeIntervalSince(e0))
                lastEval = evaluation ?? lastEval
            }
            // Every rank must take the same stop decision: the slowest rank's clock, and whether any rank
            // was asked to stop (preemption), agreed in one collective.
            let agreed = communicator.allreduceMax([elapsed(), Double(Preemption.requested)])
            let now = agreed[0]
            let preempted = agreed[1] > 0
            if let e = evaluation, let target = options.targetAccuracy, e.accuracy >= target, targetReached == nil {
                targetReached = (now, samplesBackpropagated, step)
            }
            metrics?.write(record.json(samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                                       elapsed: now, times: times, evaluation: evaluation, ranks: communicator.size))
            progress.update(step: step, of: options.fitsScheduleToBudget ? (fittedSchedule?.totalSteps ?? 0) : options.steps, record: record, evaluation: lastEval,
                            tokensPerSecond: lastTokensPerSecond, elapsed: now - elapsedBefore,
                            stepsDone: step - firstStep, force: evaluation != nil || step % max(1, options.logEvery) == 0)

            let outOfTime = options.timeBudget.map { now >= $0 } ?? false
            let paused = options.stopAfter.map { step >= $0 } ?? false
            let stop = outOfTime || targetReached != nil || paused || preempted
            if let dir = options.checkpointDirectory,
               (options.checkpointEvery > 0 && step % options.checkpointEvery == 0) || stop || step == stepLimit {
                try saveCheckpoint(directory: dir, elapsed: now)
            }
            if stop {
                if isRoot {
                    progress.finish()
                    output(preempted ? "preempted at step \(step); continue with --resume"
                           : paused ? "stopped after step \(step) as asked (--stop-after); continue with --resume"
                           : outOfTime ? "time budget of \(Int(options.timeBudget!)) s reached at step \(step)"
                                     : String(format: "target accuracy %.1f%% reached at step %d after %.1f s and %d backpropagated samples",
                                              100 * options.targetAccuracy!, step, targetReached!.seconds, targetReached!.samples))
                }
                if preempted {
                    // No final evaluation: the scheduler's grace period is for the checkpoint.
                    watchdog?.stop()
                    return TrainingSummary(steps: step, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                                           elapsedSeconds: elapsed(), finalEvaluation: nil, targetReached: nil,
                                           phaseTimes: totalTimes, stepsTimed: stepsTimed, preempted: true)
                }
                break
            }
        }
        progress.finish()
        let final = evaluate()
        watchdog?.stop()
        if let f = final, isRoot {
            output(String(format: "final validation: loss %.4f, accuracy %.2f%% over %d masked tokens", f.loss, 100 * f.accuracy, f.maskedTokens))
            metrics?.write(String(format: "{\"step\":%d,\"final\":true,\"val_loss\":%.6f,\"val_accuracy\":%.6f,\"elapsed\":%.3f}",
                                  step, f.loss, f.accuracy, elapsed()))
        }
        return TrainingSummary(steps: step, samplesScored: samplesScored, samplesBackpropagated: samplesBackpropagated,
                               elapsedSeconds: elapsed(), finalEvaluation: final, targetReached: targetReached,
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
                                        totalSteps: f.totalSteps, decayStart: f.decayStart)
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
        fixSchedule(FittedSchedule(totalSteps: step + remaining, decayStart: step))
        if isRoot {
            output(String(format: "schedule fitted to the %.0f s budget: %d steps (%.3f s per step over steps %d–%d); the learning rate decays from step %d",
                          budget, step + remaining, perStep, step - calibrationTimes.count + 1, step, step))
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
                                            directory: directory, keep: options.keepCheckpoints)
            } catch {
                failure = "\(error)"
            }
        }
        if !communicator.allAgree(failure == nil) {
            throw TrainingError(message: "checkpoint at step \(step) could not be written\(failure.map { ": " + $0 } ?? " (see rank 0)"); older checkpoints are kept")
        }
    }
}
