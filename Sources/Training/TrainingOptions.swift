import Selection

/// Everything a training run is configured with, validated before any MPI work starts.
/// Faults the reliability tests inject through hidden `sift train` flags.
public struct FaultInjection: Sendable, Equatable {
    /// Rank `stallRank` hangs at step `stallStep` (1-based), to exercise the watchdog.
    public var stallRank: Int? = nil
    public var stallStep: Int? = nil
    /// Rank 0's gradients become NaN at this step (1-based).
    public var nanStep: Int? = nil
    /// Seconds to sleep after every step, so a test can interrupt a run midway.
    public var stepDelay: Double = 0
    /// Rank `divergeRank` adds 1 to its first weight after step `divergeStep`, so its replica differs
    /// (exercises the replica check).
    public var divergeRank: Int? = nil
    public var divergeStep: Int? = nil
    /// Seconds to pause between the pieces of every checkpoint write, so a test can SIGKILL the writer
    /// mid-save.
    public var savePause: Double = 0
    public init() {}
}

public struct TrainingOptions: Sendable {
    /// Samples backpropagated per optimizer step, over all ranks (b).
    public var batchSize: Int = 32
    /// Selection fraction ρ in (0, 1]: the pool holds b/ρ candidates. 0.75 by default, not the paper's
    /// 0.5: with equal schedules every rule measured gained about the same per backpropagated sample
    /// (launch/per_sample.sh on the licenses corpus), while the scoring cost grows with the b(1/ρ − 1)
    /// candidates scored and dropped; in the timed round "rho" (docs/experiment/rho) top-b at 0.75 cost
    /// +3–9% per step over vanilla and came closest to it of the rules measured (no rule beat vanilla on
    /// every seed).
    public var selectFraction: Double = 0.75
    public var policy: SelectionPolicy = .sift
    /// Encoder layer (1-based) whose output the approximate loss is computed from.
    public var exitLayer: Int = 1
    /// How a scored pool is reduced to b (`proportional` policy: always `.proportional`). The paper's
    /// greedy top-b by default, at ρ = 0.75: with the scoring forward reused it gained as much per sample
    /// as `relative` at ρ = 0.5 for a third of the extra candidates (see `selectFraction`).
    public var rule: SelectionRule = .top
    /// What candidates are ranked by.
    public var score: ScoreKind = .loss
    /// Scores kept in the rolling history of the `relative` rule (H).
    public var historyLength: Int = 500
    /// Exponent β of the `relative` rule's percentile weights.
    public var beta: Double = 1
    /// Reuse a candidate's score for up to this many steps instead of scoring it again (0: always score):
    /// Selective-Backprop's stale variant.
    public var staleScores: Int = 0
    /// Score a sift candidate from at most this many of its masked positions (0: all), a random subset
    /// keyed by (seed, step, sample): an unbiased, noisier estimate of the same mean loss for less of
    /// the MLM head's work. Not applied to the exact policy.
    public var scorePositions: Int = 0
    /// Score sift candidates over the K most frequent tokens of the training data and each masked
    /// position's label instead of all V classes (0: all): `ScoringVocabulary`. Not applied to the exact
    /// policy. Needs the dataset's unigram counts.
    public var scoreVocabulary: Int = 0
    /// `sift train`'s `--score-vocabulary` when not given and the data has unigram counts (`--data`).
    /// On BERT-mini, 2 ranks, b 32 per rank, ρ 0.5, exit 1 with reuse, it took SIFT's step overhead from
    /// +26.8% to +8.8% at V 30522 and from +15.7% to +11.6% at V 8192, with the fidelity to the exact
    /// loss unchanged at V 8192 (Spearman 0.914 → 0.915, top-b overlap 0.883 → 0.887;
    /// docs/benchmarks/bench-score-vocabulary.txt).
    public static let defaultScoreVocabulary = 2048
    /// Score candidates with the training forward's dropout and keep their embeddings and layers
    /// 1…exit, so that a selected candidate's training forward resumes at the exit layer instead of
    /// recomputing them (`ActivationPrefix`; costs the prefix activations of this rank's share of the
    /// pool in memory). The scores then carry dropout noise, like the training loss. On by default: on
    /// BERT-mini (V 8192, 2 ranks, b 32 per rank) it took the SIFT step's overhead over vanilla from +20.1%
    /// to +9.0%, and the fidelity to the exact loss moved by ≤ 0.006 (Spearman 0.944 → 0.941 on the Python
    /// corpus, 0.861 → 0.856 on licenses; docs/benchmarks/bench-reuse.txt).
    public var reuseScoringForward: Bool = true
    /// The sifting delay: optimizer steps of plain training (pool = b, no scoring) before a selecting
    /// policy starts selecting. Early on, the highest-loss samples are the outliers the model cannot
    /// learn from yet: from scratch, BERT-mini spends its first ~1,000 steps on the unigram plateau
    /// (measured), and loss selection there held it on the plateau. 1,000 is the delay the deciding
    /// experiment used (its shared warm start) and smart sifting's default `sift_delay`.
    public var selectionWarmup: Int = 1000
    /// Largest number of samples one forward/backward call processes on a rank; larger per-rank
    /// shares are split into micro-batches whose gradients accumulate.
    public var microBatch: Int = 32
    public var learningRate: Float = 1e-3
    public var warmupSteps: Int = 100
    public var weightDecay: Float = 0.01
    public var clipNorm: Float = 1.0
    public var seed: UInt64 = 1234
    /// Optimizer steps; also the length of the learning-rate schedule.
    public var steps: Int = 1000
    /// With a `timeBudget` and no explicit step count: fix the schedule's length after
    /// `calibrationSteps` timed steps (past the warm-up and the sifting delay) so that the learning
    /// rate reaches 0 when the budget ends; `steps` is then only an upper bound.
    public var fitsScheduleToBudget: Bool = false
    /// Steps timed to fit the schedule to the budget.
    public var calibrationSteps: Int = 10
    /// Re-fit a budget-fitted schedule every this many steps (0: never): the remaining budget over the
    /// mean step time since the last fit gives a new end, and the rate decays linearly from its current
    /// value to 0 there. Ten calibration steps alone mis-fitted runs by up to ±12% on this noisy machine
    /// (a run ending 39 s before its budget, another cut off before its rate reached 0).
    public var scheduleRefitEvery: Int = 50
    /// Stop (with a checkpoint) once this optimizer step is reached, keeping the schedule of `steps`:
    /// splits one run into several jobs, e.g. to fit a cluster's time limit.
    public var stopAfter: Int? = nil
    /// Stop after this much training wall time (seconds), if set.
    public var timeBudget: Double? = nil
    /// Stop when validation accuracy reaches this fraction, if set.
    public var targetAccuracy: Double? = nil
    public var evalEvery: Int = 100
    /// Validation samples evaluated (the first ones of the held-out split); nil for all.
    public var evalSamples: Int? = 512
    public var checkpointDirectory: String? = nil
    public var checkpointEvery: Int = 0
    public var keepCheckpoints: Int = 3
    public var resume: Bool = false
    /// Move selected samples between ranks so each backpropagates b/p (±1).
    public var rebalance: Bool = true
    /// Start bucket allreduces during backward.
    public var overlap: Bool = true
    public var bucketBytes: Int = 4 << 20
    /// Compare replica checksums every this many steps (0: never).
    public var checkReplicasEvery: Int = 50
    public var metricsPath: String? = nil
    /// Optional JSON Lines log of every pool, its losses and the selection (for tests and analysis).
    public var selectionLogPath: String? = nil
    /// Every this many steps also compute the pool's exact losses (off the clock) and log how well
    /// the approximate losses rank them (0: never).
    public var fidelityEvery: Int = 0
    /// Abort the job when one phase of a step lasts longer than this many seconds (0: never).
    public var watchdogSeconds: Double = 900
    /// Faults injected by the reliability tests (hidden flags); none in a real run.
    public var faults = FaultInjection()
    /// Print a progress line every this many steps.
    public var logEvery: Int = 10

    public init() {}

    /// Number of candidates per step, B = b/ρ rounded to the nearest integer (b for vanilla).
    public var poolSize: Int {
        policy == .vanilla ? batchSize : Int((Double(batchSize) / selectFraction).rounded())
    }

    /// The rule that reduces a selecting step's pool to b (`SelectionPolicy.rule(choosing:)`).
    public var effectiveRule: SelectionRule { policy.rule(choosing: rule) ?? rule }

    /// Steps a candidate's score stays usable (0: scored afresh every time): 1 under `last-loss`, whose
    /// scores are training losses recorded by the step that backpropagated the sample; `--stale-scores`
    /// for a policy with a scoring forward.
    public var scoreReuseSteps: Int {
        policy == .lastLoss ? 1 : policy.scores ? staleScores : 0
    }

    /// Whether candidates are ranked by their last training loss (`last-loss`), which the training step records.
    public var ranksByTrainingLoss: Bool { policy == .lastLoss }

    /// Whether the selection keeps a rolling score history (the `relative` rule's percentiles).
    public var keepsScoreHistory: Bool { policy.selects && effectiveRule == .relative }

    /// How a selecting step's candidates are scored by a model of `numLayers` layers — the one place that
    /// says what each policy scores with: `exact` the last layer with every position and class, `sift` and
    /// `proportional` the exit layer with `--score-positions` and `--score-vocabulary`; nil for the
    /// policies without a scoring forward (`vanilla`, `last-loss`).
    public func scoringPath(numLayers: Int) -> ScoringPath? {
        switch policy {
        case .vanilla, .lastLoss: return nil
        case .exact: return ScoringPath(exitLayer: numLayers, reusesForward: reuseScoringForward)
        case .sift, .proportional:
            return ScoringPath(exitLayer: exitLayer, positions: scorePositions, classes: scoreVocabulary,
                               reusesForward: reuseScoringForward)
        }
    }

    /// The optimizer step after which a budget-fitted schedule's length is fixed.
    public var calibrationEnd: Int {
        max(warmupSteps, policy == .vanilla ? 0 : selectionWarmup) + calibrationSteps
    }

    /// Whether step `step` (0-based) selects: false for vanilla and during the selection warm-up.
    public func selects(atStep step: Int) -> Bool { policy != .vanilla && step >= selectionWarmup }

    /// Candidates drawn at step `step` (0-based): b during the selection warm-up, `poolSize` after.
    public func poolSize(atStep step: Int) -> Int { selects(atStep: step) ? poolSize : batchSize }

    /// Position in the candidate stream where step `step`'s pool starts: a function of the step
    /// alone, so a resumed run draws the same pools.
    /// (For vanilla `poolSize` is b, so the warm-up split changes nothing.)
    public func streamStart(atStep step: Int) -> Int {
        let plain = min(step, selectionWarmup)
        return plain * batchSize + (step - plain) * poolSize
    }

    /// The first problem with these options for a model of `numLayers` layers, or nil.
    public func validationError(numLayers: Int, ranks: Int) -> String? {
        if batchSize < 1 { return "--batch-size must be at least 1 (got \(batchSize))" }
        if !(selectFraction > 0 && selectFraction <= 1) { return "--select-fraction must be in (0, 1] (got \(selectFraction))" }
        if exitLayer < 1 || exitLayer > numLayers {
            return "--exit-layer must be between 1 and the model's \(numLayers) layers (got \(exitLayer))"
        }
        if batchSize < ranks { return "--batch-size \(batchSize) is smaller than the \(ranks) ranks: every rank needs at least one sample" }
        if poolSize < ranks { return "candidate pool of \(poolSize) is smaller than the \(ranks) ranks" }
        if microBatch < 1 { return "--micro-batch must be at least 1" }
        if selectionWarmup < 0 { return "--sift-delay must be non-negative (got \(selectionWarmup))" }
        if scorePositions < 0 { return "--score-positions must be non-negative (got \(scorePositions))" }
        if staleScores < 0 { return "--stale-scores must be non-negative (got \(staleScores))" }
        if scoreVocabulary < 0 { return "--score-vocabulary must be non-negative (got \(scoreVocabulary))" }
        if policy == .lastLoss && (staleScores > 0 || scorePositions > 0 || scoreVocabulary > 0) {
            let flag = staleScores > 0 ? "stale-scores" : scorePositions > 0 ? "score-positions" : "score-vocabulary"
            return "--\(flag) shapes a scoring forward, and --policy last-loss has none"
        }
        if historyLength < 1 { return "--history must be at least 1 (got \(historyLength))" }
        if !(beta > 0) || !beta.isFinite { return "--beta must be positive (got \(beta))" }
        if fitsScheduleToBudget && timeBudget == nil { return "a budget-fitted schedule needs --time-budget" }
        if calibrationSteps < 1 { return "calibration needs at least one step" }
        if scheduleRefitEvery < 0 { return "--schedule-refit-every must be non-negative (got \(scheduleRefitEvery))" }
        if !(learningRate > 0) || !learningRate.isFinite { return "--lr must be positive (got \(learningRate))" }
        if warmupSteps < 0 { return "--warmup must be non-negative" }
        if steps < 1 { return "--steps must be at least 1" }
        if let s = stopAfter, s < 1 { return "--stop-after must be at least 1" }
        if let t = timeBudget, !(t > 0) { return "--time-budget must be positive" }
        if let a = targetAccuracy, !(a > 0 && a <= 1) { return "--target-accuracy must be in (0, 1]" }
        if evalEvery < 0 || checkpointEvery < 0 || checkReplicasEvery < 0 || fidelityEvery < 0 { return "intervals must be non-negative" }
        if keepCheckpoints < 1 { return "--keep-checkpoints must be at least 1" }
        if !(watchdogSeconds >= 0) { return "--watchdog-seconds must be non-negative" }
        if bucketBytes < 4096 { return "--bucket-mb is too small" }
        if resume && checkpointDirectory == nil { return "--resume needs --checkpoint-dir" }
        return nil
    }

    /// Settings a resumed run must share with the run that wrote the checkpoint.
    public var fingerprint: String {
        var selection = ""
        if policy != .vanilla {
            selection = " rule=\(effectiveRule.rawValue) score=\(score.rawValue)"
            if effectiveRule == .relative { selection += " history=\(historyLength) beta=\(beta)" }
            if staleScores > 0 { selection += " stale=\(staleScores)" }
            if scorePositions > 0 { selection += " score-positions=\(scorePositions)" }
            if scoreVocabulary > 0 { selection += " score-vocabulary=\(scoreVocabulary)" }
            if reuseScoringForward { selection += " reuse-scoring-forward" }
        }
        let length = fitsScheduleToBudget ? "budget=\(timeBudget ?? 0) refit=\(scheduleRefitEvery)" : "steps=\(steps)"
        return "policy=\(policy.rawValue) b=\(batchSize) rho=\(selectFraction) exit=\(exitLayer)\(selectionWarmup > 0 ? " selection-warmup=\(selectionWarmup)" : "")\(selection) lr=\(learningRate) warmup=\(warmupSteps) \(length) wd=\(weightDecay) clip=\(clipNorm) seed=\(seed)"
    }
}
