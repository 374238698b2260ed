import Communication
import Core
import CostModel
import Foundation
import Kernels
import Model
import Selection
import Training

extension Bench {
    // MARK: - Steps

    /// Issue 12's goals: the most a SIFT step of `sift train`'s default configuration (exit layer, ρ and scoring
    /// path) may cost over vanilla.
    static let overheadLimits: [String: Double] = ["base": 0.05, "mini": 0.10]

    /// Times the parts of a step for every configuration on every rank at once and prints, per
    /// configuration, a vanilla row and one SIFT row per scoring path. Returns the rows and the verdicts
    /// on the overhead targets of base and mini (those measured in `sift train`'s default configuration).
    func measureSteps(peak: Double?) throws -> ([StepRow], [SiftTarget]) {
        let seqLen = plan.seqLen, vocabSize = plan.vocabSize, selectFraction = plan.selectFraction
        let defaults = TrainingOptions()
        var rows: [StepRow] = []
        var targets: [SiftTarget] = []
        say(
            "\ntraining step per rank (T = \(seqLen); the trainer's own step on all \(comm.size) rank(s) at once, "
                + "slowest rank, mean of \(plan.repeats) steps after a warm-up step)")
        var table = TextTable(
            [
                "config", "step", "b", "pool", "s/step", "tokens/s", "GFLOP/s", "MFU",
                "scoring share", "(FLOPs)", "vs vanilla", "(FLOPs)"
            ],
            alignments: [.left, .left] + Array(repeating: .right, count: 10))
        var lastLayer = TextTable(
            ["config", "b", "s/step", "dense last layer", "ratio", "GFLOP executed", "dense-equivalent", "saved"],
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
            let trainExecuted = BertForMaskedLM.trainingFLOPs(
                config: config, batch: b, seqLen: seqLen, maskedTokens: trained, executed: true)
            let vanilla = try trainerStep(model: model, policy: .vanilla, exitLayer: 1, scorePositions: 0, perRankBatch: b)
            // The same step with the last layer at every position (the comparison for the sparse last layer).
            let dense = try trainerStep(
                model: model, policy: .vanilla, exitLayer: 1, scorePositions: 0, perRankBatch: b,
                denseLastLayer: true)
            lastLayer.add([
                name, "\(b)", fmt(vanilla.seconds, 3), fmt(dense.seconds, 3), fmt(dense.seconds / vanilla.seconds, 3),
                fmt(trainExecuted / 1e9, 2), fmt(trainFLOPs / 1e9, 2), pct(1 - trainExecuted / trainFLOPs)
            ])
            func row(
                _ label: String, exit: Int?, positions: Int? = nil, reuse: Bool? = nil, classes: Int? = nil, pool: Int?,
                timing: TrainerStepTiming, flops: Double,
                executedFlops: Double, predictedShare: Double?, predictedOverhead: Double?
            ) {
                let secs = timing.seconds
                let g = flops / secs / 1e9
                let mfu = peak.map { g / $0 }
                let scoring = exit == nil ? nil : timing.times.scoring + timing.times.selection
                let share = scoring.map { $0 / secs }
                let overhead = exit == nil ? nil : secs / vanilla.seconds - 1
                table.add([
                    name, label, "\(b)", pool.map(String.init) ?? "—", fmt(secs, 3), fmt(Double(b * seqLen) / secs, 0),
                    fmt(g, 1), pct(mfu), pct(share), pct(predictedShare), signedPct(overhead), signedPct(predictedOverhead)
                ])
                rows.append(
                    StepRow(
                        config: name, step: exit == nil ? "vanilla" : "sift", exitLayer: exit, scorePositions: positions,
                        reuseScoringForward: reuse, scoreVocabulary: classes, batch: b, pool: pool,
                        seconds: secs, forwardBackwardSeconds: timing.times.forwardBackward, optimizerSeconds: timing.times.optimizer,
                        scoringSeconds: scoring, tokensPerSPerRank: Double(b * seqLen) / secs,
                        tokensPerSAllRanks: Double(comm.size * b * seqLen) / secs, flops: flops,
                        executedFlops: executedFlops, gflops: g, mfu: mfu,
                        denseLastLayerSeconds: exit == nil ? dense.seconds : nil, scoringShare: share,
                        predictedScoringShare: predictedShare, overhead: overhead,
                        predictedOverhead: predictedOverhead, ranks: comm.size, threadsPerRank: BLAS.threads,
                        vocabSize: vocabSize, seqLen: seqLen))
                if let limit = Self.overheadLimits[name], exit == defaults.exitLayer,
                    (positions ?? 0) == defaults.scorePositions
                        && (classes ?? 0) == TrainingOptions.defaultScoreVocabulary
                        && reuse == defaults.reuseScoringForward && selectFraction == defaults.selectFraction,
                    let overhead, let predictedOverhead
                {
                    // Judged on the step times, vanilla and SIFT measured back to back in this run. Not on
                    // the scoring share inside the SIFT step: with reuse the scoring forward holds work the
                    // training forward then skips, so the share overstates what scoring adds.
                    targets.append(
                        SiftTarget(
                            config: name, exitLayer: defaults.exitLayer, selectFraction: selectFraction, batch: b,
                            scoreVocabulary: classes, vocabSize: vocabSize, overhead: overhead,
                            predictedOverhead: predictedOverhead, limit: limit, met: overhead <= limit))
                }
            }
            row(
                "vanilla", exit: nil, pool: nil, timing: vanilla, flops: trainFLOPs, executedFlops: trainExecuted,
                predictedShare: nil, predictedOverhead: nil)
            let poolSize = ScalingModel.poolSize(globalBatch: b, policy: .sift(selectFraction: selectFraction))
            for exit in plan.exits(for: config) {
                for k in plan.scorePositions {
                    for reuse in plan.reuse {
                        for classes in plan.scoreVocabularies {
                            // With reuse the training forward skips the embeddings' and layers 1…exit's products for b samples.
                            let saved =
                                reuse
                                ? BertForMaskedLM.scoringFLOPs(config: config, exitLayer: exit, batch: b, seqLen: seqLen, maskedTokens: 0)
                                : 0
                            let scored = maskedTokens(count: poolSize, k: k)
                            let scoreFLOPs =
                                BertForMaskedLM.scoringFLOPs(
                                    config: config, exitLayer: exit, batch: poolSize, seqLen: seqLen,
                                    maskedTokens: scored, classes: classes > 0 ? classes : nil) - saved
                            // Executed: the kept scoring forward (reuse) runs its exit layer densely, and a
                            // training forward resuming after the last layer runs no layer at all.
                            let scoreExecuted =
                                BertForMaskedLM.scoringFLOPs(
                                    config: config, exitLayer: exit, batch: poolSize, seqLen: seqLen,
                                    maskedTokens: scored, classes: classes > 0 ? classes : nil,
                                    executed: !reuse) - saved
                            let trainedExecuted = reuse && exit == config.numLayers ? trainFLOPs : trainExecuted
                            let sift = try trainerStep(
                                model: model, policy: .sift, exitLayer: exit, scorePositions: k, reuse: reuse,
                                scoreVocabulary: classes, perRankBatch: b)
                            row(
                                "sift exit \(exit)" + (k > 0 ? ", ≤\(k) pos." : "") + (reuse ? ", reuse" : "")
                                    + (classes > 0 ? ", \(classes) classes" : ""), exit: exit,
                                positions: k > 0 ? k : nil, reuse: reuse, classes: classes > 0 ? classes : nil, pool: poolSize,
                                timing: sift,
                                flops: trainFLOPs + scoreFLOPs, executedFlops: trainedExecuted + scoreExecuted,
                                predictedShare: scoreFLOPs / (trainFLOPs + scoreFLOPs), predictedOverhead: scoreFLOPs / trainFLOPs)
                        }
                    }
                }
            }
        }
        say(table.render())
        if rows.contains(where: { ($0.mfu ?? 0) > 1 }) {
            say(
                "  note: MFU above 100% means the sgemm peak was measured while the cores were busier than during the "
                    + "steps (other processes?)")
        }
        say("  s/step: the whole trainer step (data, scoring, selection and its allgather, forward+backward, gradient allreduce, AdamW);")
        say("  SIFT scores b/ρ candidates per rank at the exit layer with sift train's default rule (≤k pos.: each candidate scored")
        say("  from at most k of its masked positions, --score-positions k; reuse: the training forward resumes at the exit layer from")
        say("  the scoring forward, --reuse-scoring-forward, and the FLOP columns subtract the products it skips; K classes: the scoring")
        say("  head's decoder over the K lowest token ids and each label, --score-vocabulary K). Scoring share:")
        say("  scoring + selection time ÷ step time.")
        say(
            "  tokens/s: backpropagated tokens per second on one rank (× \(comm.size) ranks for the machine). MFU: "
                + "GFLOP/s ÷ the sgemm peak above.")
        say("  FLOPs: matrix products only (2·m·n·k): Q/K/V/output projections, attention scores and context, FFN, and the MLM head on")
        say("  the masked positions only; backward = 2 × the forward's products. Softmax, LayerNorm, GELU, dropout, AdamW are not counted.")
        say("  (FLOPs) columns: the scoring share and the SIFT overhead the FLOP count predicts. The FLOP counts are")
        say("  dense-equivalent (every layer at every position); the JSON's executed_flops is what ran (below).")
        say("\nthe last layer at the masked positions only (the default) vs at every position (sift train --dense-last-layer),")
        say("vanilla step as above, the two measured back to back; ratio = dense ÷ sparse step time; GFLOP per step:")
        say(lastLayer.render())
        for t in targets {
            say(
                "  SIFT target — \(t.config), exit layer \(t.exitLayer), ρ = \(t.selectFraction), b = \(t.batch), V \(t.vocabSize), `sift train`'s "
                    + "default scoring path: "
                    + "\(signedPct(t.overhead)) over vanilla (step times, back to back; FLOP count \(signedPct(t.predictedOverhead))); "
                    + "target ≤ \(signedPct(t.limit)): \(t.met ? "MET" : "NOT MET")"
                    + (plan.quick ? " (quick run, small b: indicative)" : ""))
        }
        for name in Self.overheadLimits.keys.sorted() where !targets.contains(where: { $0.config == name }) {
            say(
                "  SIFT target (\(name), exit layer \(defaults.exitLayer), ρ = \(defaults.selectFraction)): not measured in this run"
                    + (plan.names.contains(name)
                        ? " (needs --select-fraction \(defaults.selectFraction), exit layer \(defaults.exitLayer), "
                            + "--reuse-scoring-forward "
                            + "on, --score-positions \(defaults.scorePositions) and --score-vocabularies "
                            + "\(TrainingOptions.defaultScoreVocabulary))" : " (add \(name) to --configs)"))
        }
        return (rows, targets)
    }
}
