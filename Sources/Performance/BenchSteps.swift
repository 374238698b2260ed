import Communication
import Core
import Foundation
import Kernels
import Model
import Selection
import Training

extension Bench {
    // MARK: - Steps

    /// Issue 12's goals: the most a SIFT step (exit 1, ρ = 0.5, default scoring path) may cost over vanilla.
    static let overheadLimits: [String: Double] = ["base": 0.05, "mini": 0.10]

    /// Times the parts of a step for every configuration on every rank at once and prints, per
    /// configuration, a vanilla row and one SIFT row per scoring path. Returns the rows and the verdicts
    /// on the overhead targets of base and mini (those measured at exit 1, ρ = 0.5 on the default path).
    func measureSteps(peak: Double?) throws -> ([StepRow], [SiftTarget]) {
        let seqLen = plan.seqLen, vocabSize = plan.vocabSize, selectFraction = plan.selectFraction
        let defaults = TrainingOptions()
        var rows: [StepRow] = []
        var targets: [SiftTarget] = []
        say("\ntraining step per rank (T = \(seqLen); the trainer's own step on all \(comm.size) rank(s) at once, "
            + "slowest rank, mean of \(plan.repeats) steps after a warm-up step)")
        var table = TextTable(["config", "step", "b", "pool", "s/step", "tokens/s", "GFLOP/s", "MFU",
                               "scoring share", "(FLOPs)", "vs vanilla", "(FLOPs)"],
                              alignments: [.left, .left] + Array(repeating: .right, count: 10))
        var lastLayer = TextTable(["config", "b", "s/step", "dense last layer", "ratio", "GFLOP executed", "dense-equivalent", "saved"],
                                  alignments: [.left] + Array(repeating: .right, count: 7))
        for name in plan.names {
            let config = plan.config(name)
            let b = plan.batch[name]!
            let model = BertForMaskedLM(config: config, seed: 1)
            let data = SyntheticSamples(count: 1 << 20, seqLen: seqLen, vocab: vocabSize, salt: 3)
            /// Masked tokens of `count` synthetic samples (at most `k` each when k > 0), for the FLOP counts.
            func maskedTokens(count: Int, k: Int) -> Int {
                var batch = MLMBatch(count: count, seqLen: seqLen)
                batch.fill((0..<count).map { (index: $0, epoch: 0) }, from: data, positions: k > 0 ? (limit: k, key: 1) : nil)
                return max(1, batch.maskedTokenCount)
            }
            let trained = maskedTokens(count: b, k: 0)
            let trainFLOPs = BertForMaskedLM.trainingFLOPs(config: config, batch: b, seqLen: seqLen, maskedTokens: trained)
            let trainExecuted = BertForMaskedLM.trainingFLOPs(config: config, batch: b, seqLen: seqLen, maskedTokens: trained, executed: true)
            let vanilla = try trainerStep(model: model, policy: .vanilla, exitLayer: 1, scorePositions: 0, perRankBatch: b)
            // The same step with the last layer at every position (the comparison for the sparse last layer).
            let dense = try trainerStep(model: model, policy: .vanilla, exitLayer: 1, scorePositions: 0, perRankBatch: b,
                                        denseLastLayer: true)
            lastLayer.add([name, "\(b)", fmt(vanilla.seconds, 3), fmt(dense.seconds, 3), fmt(dense.seconds / vanilla.seconds, 3),
                           fmt(trainExecuted / 1e9, 2), fmt(trainFLOPs / 1e9, 2), pct(1 - trainExecuted / trainFLOPs)])
            func row(_ label: String, exit: Int?, positions: Int? = nil, reuse: Bool? = nil, classes: Int? = nil, pool: Int?, timing: TrainerStepTiming, flops: Double,
                     executedFlops: Double, predictedShare: Double?, predictedOverhead: Double?) {
                let secs = timing.seconds
                let g = flops / secs / 1e9
                let mfu = peak.map { g / $0 }
                let scoring = exit == nil ? nil : timing.times.scoring + timing.times.selection
                let share = scoring.map { $0 / secs }
                let overhead = exit == nil ? nil : secs / vanilla.seconds - 1
                table.add([name, label, "\(b)", pool.map(String.init) ?? "—", fmt(secs, 3), fmt(Double(b * seqLen) / secs, 0),
                           fmt(g, 1), pct(mfu), pct(share), pct(predictedShare), signedPct(overhead), signedPct(predictedOverhead)])
                rows.append(StepRow(config: name, step: exit == nil ? "vanilla" : "sift", exitLayer: exit, scorePositions: positions, reuseScoringForward: reuse, scoreVocabulary: classes, batch: b, pool: pool,
                                    seconds: secs, forwardBackwardSeconds: timing.times.forwardBackward, optimizerSeconds: timing.times.optimizer,
                                    scoringSeconds: scoring, tokensPerSPerRank: Double(b * seqLen) / secs,
                                    tokensPerSAllRanks: Double(comm.size * b * seqLen) / secs, flops: flops,
                                    executedFlops: executedFlops, gflops: g, mfu: mfu,
                                    denseLastLayerSeconds: exit == nil ? dense.seconds : nil, scoringShare: share, predictedScoringShare: predictedShare, overhead: overhead,
                                    predictedOverhead: predictedOverhead, ranks: comm.size, threadsPerRank: BLAS.threads,
                                    vocabSize: vocabSize, seqLen: seqLen))
                if let limit = Self.overheadLimits[name], exit == 1, (positions ?? 0) == defaults.scorePositions
                    && (classes ?? 0) == TrainingOptions.defaultScoreVocabulary
                    && reuse == defaults.reuseScoringForward && abs(selectFraction - 0.5) < 1e-9,
                   let overhead, let predictedOverhead {
                    // Judged on the step times, vanilla and SIFT measured back to back in this run. Not on
                    // the scoring share inside the SIFT step: with reuse the scoring forward holds work the
                    // training forward then skips, so the share overstates what scoring adds.
                    targets.append(SiftTarget(config: name, exitLayer: 1, selectFraction: selectFraction, batch: b,
                                              scoreVocabulary: classes, vocabSize: vocabSize, overhead: overhead,
                                              predictedOverhead: predictedOverhead, limit: limit, met: overhead <= limit))
                }
            }
            row("vanilla", exit: nil, pool: nil, timing: vanilla, flops: trainFLOPs, executedFlops: trainExecuted,
                predictedShare: nil, predictedOverhead: nil)
            let poolSize = ScalingModel.poolSize(globalBatch: b, policy: .sift(selectFraction: selectFraction))
            for exit in plan.exits(for: config) {
                for k in plan.scorePositions {
                    for reuse in plan.reuse {
                        for classes in plan.scoreVocabularies {
                            // With reuse the training forward skips the embeddings' and layers 1…exit's products for b samples.
                            let saved = reuse ? BertForMaskedLM.scoringFLOPs(config: config, exitLayer: exit, batch: b, seqLen: seqLen, maskedTokens: 0) : 0
                            let scored = maskedTokens(count: poolSize, k: k)
                            let scoreFLOPs = BertForMaskedLM.scoringFLOPs(config: config, exitLayer: exit, batch: poolSize, seqLen: seqLen,
                                                                          maskedTokens: scored, classes: classes > 0 ? classes : nil) - saved
                            // Executed: the kept scoring forward (reuse) runs its exit layer densely, and a
                            // training forward resuming after the last layer runs no layer at all.
                            let scoreExecuted = BertForMaskedLM.scoringFLOPs(config: config, exitLayer: exit, batch: poolSize, seqLen: seqLen,
                                                                             maskedTokens: scored, classes: classes > 0 ? classes : nil,
                                                                             executed: !reuse) - saved
                            let trainedExecuted = reuse && exit == config.numLayers ? trainFLOPs : trainExecuted
                            let sift = try trainerStep(model: model, policy: .sift, exitLayer: exit, scorePositions: k, reuse: reuse,
                                                       scoreVocabulary: classes, perRankBatch: b)
                            row("sift exit \(exit)" + (k > 0 ? ", ≤\(k) pos." : "") + (reuse ? ", reuse" : "")
                                + (classes > 0 ? ", \(classes) classes" : ""), exit: exit,
                                positions: k > 0 ? k : nil, reuse: reuse, classes: classes > 0 ? classes : nil, pool: poolSize, timing: sift,
                                flops: trainFLOPs + scoreFLOPs, executedFlops: trainedExecuted + scoreExecuted,
                                predictedShare: scoreFLOPs / (trainFLOPs + scoreFLOPs), predictedOverhead: scoreFLOPs / trainFLOPs)
                        }
                    }
                }
            }
        }
        say(table.render())
        if rows.contains(where: { ($0.mfu ?? 0) > 1 }) {
            say("  note: MFU above 100% means the sgemm peak was measured while the cores were busier than during the "
                + "steps (other processes?)")
        }
        say("  s/step: the whole trainer step (data, scoring, selection and its allgather, forward+backward, gradient allreduce, AdamW);")
        say("  SIFT scores b/ρ candidates per rank at the exit layer with sift train's default rule (≤k pos.: each candidate scored")
        say("  from at most k of its masked positions, --score-positions k; reuse: the training forward resumes at the exit layer from")
        say("  the scoring forward, --reuse-scoring-forward, and the FLOP columns subtract the products it skips; K classes: the scoring")
        say("  head's decoder over the K lowest token ids and each label, --score-vocabulary K). Scoring share:")
        say("  scoring + selection time ÷ step time.")
        say("  tokens/s: backpropagated tokens per second on one rank (× \(comm.size) ranks for the machine). MFU: "
            + "GFLOP/s ÷ the sgemm peak above.")
        say("  FLOPs: matrix products only (2·m·n·k): Q/K/V/output projections, attention scores and context, FFN, and the MLM head on")
        say("  the masked positions only; backward = 2 × the forward's products. Softmax, LayerNorm, GELU, dropout, AdamW are not counted.")
        say("  (FLOPs) columns: the scoring share and the SIFT overhead the FLOP count predicts. The FLOP counts are")
        say("  dense-equivalent (every layer at every position); the JSON's executed_flops is what ran (below).")
        say("\nthe last layer at the masked positions only (the default) vs at every position (sift train --dense-last-layer),")
        say("vanilla step as above, the two measured back to back; ratio = dense ÷ sparse step time; GFLOP per step:")
        say(lastLayer.render())
        for t in targets {
            say("  SIFT target — \(t.config), exit layer 1, ρ = 0.5, b = \(t.batch), V \(t.vocabSize), `sift train`'s "
                + "default scoring path: "
                + "\(signedPct(t.overhead)) over vanilla (step times, back to back; FLOP count \(signedPct(t.predictedOverhead))); "
                + "target ≤ \(signedPct(t.limit)): \(t.met ? "MET" : "NOT MET")"
                + (plan.quick ? " (quick run, small b: indicative)" : ""))
        }
        for name in Self.overheadLimits.keys.sorted() where !targets.contains(where: { $0.config == name }) {
            say("  SIFT target (\(name), exit layer 1, ρ = 0.5): not measured in this run"
                + (plan.names.contains(name) ? " (needs --select-fraction 0.5, exit layer 1, --reuse-scoring-forward "
                    + "on, --score-positions \(defaults.scorePositions) and --score-vocabularies "
                        + "\(TrainingOptions.defaultScoreVocabulary))" : " (add \(name) to --configs)"))
        }
        return (rows, targets)
    }

    // MARK: - Allreduce

    /// Times an in-place float allreduce of each configuration's gradient (one blocking call, and in
    /// the trainer's non-blocking 4 MiB buckets) and an 8-byte allreduce, and compares the blocking
    /// one with the ring bound on the measured memory bandwidth.
    func measureAllreduce(memory: MemoryReport?) -> AllreduceReport {
        let p = comm.size
        let medium = memory.map { CommunicationMedium.sharedMemory(copyBandwidth: $0.allRanks.copyBytesPerS,
                                                                   triadBandwidth: $0.allRanks.triadBytesPerS, latency: 0) }
        var rows: [AllreduceRow] = []
        say("\ngradient allreduce — MPI_Allreduce in place, float32, \(p) ranks, median of \(plan.repeats); bus bandwidth = 2(p−1)/p·S / t")
        var table = TextTable(["config", "gradient", "time", "bus GB/s", "ring bound", "bound bus GB/s", "% of bound",
                               "4 MiB buckets (trainer)", "bus GB/s "])
        for name in plan.names {
            let count = ParameterLayout(config: plan.config(name)).totalCount
            let buffer = FloatBuffer(count: count)
            for i in stride(from: 0, to: count, by: 1024) { buffer[i] = 1 }
            let secs = median(comm, repeats: plan.repeats) { comm.allreduceSum(buffer.pointer, count: count) }
            let bytes = Double(count * 4)
            let bus = 2 * Double(p - 1) / Double(p) * bytes / secs
            let bound = medium.map { ScalingModel.ringAllreduceSeconds(bytes: bytes, ranks: p, buckets: 1, medium: $0) }
            let boundBus = bound.map { 2 * Double(p - 1) / Double(p) * bytes / $0 }
            // The same sum as the trainer issues it: non-blocking MPI_Iallreduce per 4 MiB bucket, all
            // started at once (no backward to overlap), then waited for.
            let buckets = GradientBuckets(gradients: buffer, communicator: comm, bucketBytes: 4 << 20, overlap: false)
            let bucketed = median(comm, repeats: plan.repeats) { _ = buckets.finish() }
            let bucketedBus = 2 * Double(p - 1) / Double(p) * bytes / bucketed
            table.add([name, String(format: "%.1f MB", bytes / 1e6), formatSeconds(secs), fmt(bus / 1e9, 2),
                       formatSeconds(bound), fmt(boundBus.map { $0 / 1e9 }, 2), pct(bound.map { $0 / secs }, 0),
                       formatSeconds(bucketed), fmt(bucketedBus / 1e9, 2)])
            rows.append(AllreduceRow(config: name, bytes: bytes, seconds: secs, busBytesPerS: bus, bucketedSeconds: bucketed,
                                     bucketedBusBytesPerS: bucketedBus, buckets: buckets.ranges.count, ringBoundSeconds: bound,
                                     ringBoundBusBytesPerS: boundBus, fractionOfBound: bound.map { $0 / secs }, ranks: p))
        }
        var small = [0.0]
        let smallSecs = small.withUnsafeMutableBufferPointer { buf in
            median(comm, repeats: max(50, 20 * plan.repeats)) { comm.allreduceSum(buf.baseAddress!, count: 1) }
        }
        let rounds = ceil(log2(Double(p)))
        say(table.render())
        say("  ring bound on one node (ScalingModel.ringAllreduceSeconds): t ≥ (p−1)·S·(3/B_triad + 2/B_copy), with "
            + "the all-ranks STREAM rates above:")
        say("  each reduce-scatter step reads a peer's chunk and its own and writes the sum (triad traffic), each allgather")
        say("  step copies a chunk (copy traffic). It assumes single-copy transfers, buffers larger than the caches (the")
        say("  L3 holds a small model's gradient, which can then beat it) and memory as the only limit; latency is not in it.")
        if memory == nil { say("  (no bound: the memory section was not run)") }
        let algorithm = comm.intParameter(Communicator.iallreduceAlgorithmParameter)
        let names = [0: "libnbc's own choice: a binomial tree for in-place calls", 1: "ring", 2: "binomial tree",
                     3: "Rabenseifner", 4: "recursive doubling"]
        say("  4 MiB buckets: the trainer's non-blocking MPI_Iallreduce per bucket (OpenMPI's libnbc, algorithm "
            + (algorithm.map { "\(Communicator.iallreduceAlgorithmParameter) = \($0): \(names[$0] ?? "unknown")" } ?? "unknown")
            + "), all started at once, then waited for.")
        say("  8-byte allreduce: \(formatSeconds(smallSecs)) → latency α ≈ \(formatSeconds(smallSecs / rounds)) per "
            + "round (⌈log₂ p⌉ = \(Int(rounds)) rounds)")
        return AllreduceReport(gradients: rows, smallAllreduceSeconds: smallSecs, latencySeconds: smallSecs / rounds, ranks: p,
                               iallreduceAlgorithm: algorithm)
    }
}
