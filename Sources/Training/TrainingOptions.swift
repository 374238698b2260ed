import Data
import Selection

/// Everything a training run is configured with, validated before any MPI work starts; its defaults are
/// `sift train`'s (the CLI reads them from here). Why each default is what it is: docs/DECISIONS.md.
public struct TrainingOptions: Sendable {
    /// Samples backpropagated per optimizer step, over all ranks (b).
    public var batchSize: Int = 32
    /// Selection fraction ρ in (0, 1]: the pool holds b/ρ candidates. Larger than the paper's 0.5 because the
    /// scoring cost grows with the candidates dropped (docs/DECISIONS.md).
    public var selectFraction: Double = 0.75
    public var policy: SelectionPolicy = .sift
    /// Encoder layer (1-based) whose output the approximate loss is computed from.
    public var exitLayer: Int = 1
    /// How a scored pool is reduced to b (`proportional` policy: always `.proportional`); the paper's greedy
    /// top-b by default (docs/DECISIONS.md).
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
    /// `sift train`'s `--score-vocabulary` when not given and the data has unigram counts (`--data`): the
    /// decoder shrinks by V/K while the ranking stays that of the full loss (docs/DECISIONS.md).
    public static let defaultScoreVocabulary = 2048
    /// Score candidates with the training forward's dropout and keep their embeddings and layers
    /// 1…exit, so that a selected candidate's training forward resumes at the exit layer instead of
    /// recomputing them (`ActivationPrefix`; costs the prefix activations of this rank's share of the
    /// pool in memory). The scores then carry dropout noise, like the training loss. On by default: it saves
    /// most of the scoring forward at the same fidelity (docs/DECISIONS.md).
    public var reuseScoringForward: Bool = true
    /// The sifting delay: optimizer steps of plain training (pool = b, no scoring) before a selecting
    /// policy starts selecting, because from scratch the highest-loss samples are outliers the model cannot
    /// learn from yet (docs/DECISIONS.md).
    public var siftDelay: Int = 1000
    /// Start selecting only once the model has learned this share of the unigram model's loss
    /// (`SiftStart`; 0: off, the step delay alone): a stage rather than a step count.
    public var siftStartLearned: Double = 0
    /// Largest number of samples one forward/backward call processes on a rank; larger per-rank
    /// shares are split into micro-batches whose gradients accumulate.
    public var microBatch: Int = 32
    /// Peak learning rate of the schedule.
    public var learningRate: Float = 1e-3
    /// Steps of linear warm-up to the peak rate.
    public var warmupSteps: Int = 100
    /// The update rule (`--optimizer`): AdamW, or LAMB for large global batches (docs/TRAINING.md).
    public var optimizer: OptimizerKind = .adamw
    /// The optimizer's decoupled weight decay (not on biases and LayerNorm).
    public var weightDecay: Float = 0.01
    /// Global gradient-norm clipping threshold.
    public var clipNorm: Float = 1.0
    /// Seed of every random choice (initialisation, data order, masks, dropout, sampling).
    public var seed: UInt64 = 1234
    /// What one masking draw covers: a token (BERT's original masking) or a whole word (`--mask words`).
    /// It changes the training data, so a resumed run must keep it (`fingerprint`).
    public var masking: MaskingMode = .tokens
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
    /// value to 0 there: step times drift, so one calibration alone mis-fits a run (docs/DECISIONS.md).
    public var scheduleRefitEvery: Int = 50
    /// Stop (with a checkpoint) once this optimizer step is reached, keeping the schedule of `steps`:
    /// splits one run into several jobs, e.g. to fit a cluster's time limit.
    public var stopAfter: Int? = nil
    /// Stop after this much training wall time (seconds), if set.
    public var timeBudget: Double? = nil
    /// Stop when validation accuracy reaches this fraction, if set.
    public var targetAccuracy: Double? = nil
    /// Evaluate the validation split every this many steps (0: only at the end).
    public var evalEvery: Int = 100
    /// Stretches evaluated more often than `evalEvery` (`--eval-dense`), e.g. near a target's crossing.
    public var evalWindows: [EvaluationWindow] = []
    /// Validation samples evaluated (the first ones of the held-out split); nil for all.
    public var evalSamples: Int? = 512
    public var checkpointDirectory: String? = nil
    /// Checkpoint every this many steps (0: only at the end).
    public var checkpointEvery: Int = 0
    /// Newest checkpoints kept in the directory.
    public var keepCheckpoints: Int = 3
    /// Continue from the newest valid checkpoint in `checkpointDirectory`; an error if it holds none.
    public var resume: Bool = false
    /// With `resume` (`--resume-or-start`): start from step 0 when the directory is missing, empty or holds
    /// only damaged checkpoints (which are moved aside, never overwritten).
    public var resumeOrStart: Bool = false
    /// Without `resume` (`--start-over`): delete the checkpoints an earlier run left in `checkpointDirectory`
    /// and replace its metrics and selection log. Without this flag such leftovers are an error, because
    /// a run from step 0 would overwrite the log and rotate the earlier run's checkpoints away.
    public var startOver: Bool = false
    /// Start a new phase (`--phase-from DIR`) from the newest valid checkpoint in this directory, which is
    /// only read: weights, optimizer moments and the step count continue, while the sequence length (the
    /// data) and the learning-rate schedule (`--lr`, `--warmup`, `--steps`, counted from the phase's first
    /// step) may differ. Checkpoints go to `checkpointDirectory`, which must be another folder.
    public var phaseFrom: String? = nil
    /// Move selected samples between ranks so each backpropagates b/p (±1).
    public var rebalance: Bool = true
    /// How ranks agree on a `top` selection; both exchanges select the same samples. `auto` is resolved
    /// from the scaling model by `resolvedExchange(ranks:)`, which every `Trainer` applies (docs/DECISIONS.md).
    public var selectionExchange: SelectionExchange = .auto
    /// Start bucket allreduces during backward.
    public var overlap: Bool = true
    /// Run the layer only the MLM head reads at every position (`BertForMaskedLM.denseLastLayer`), for
    /// comparisons; by default it runs at the masked positions only (the same function, fewer products).
    public var denseLastLayer: Bool = false
    /// Size of one gradient allreduce bucket, bytes.
    public var bucketBytes: Int = 4 << 20
    /// Exchange gradients as bfloat16 (half the bytes; each sum rounded to bfloat16) instead of floats. Off by
    /// default: it changes the weights (and makes them depend on the rank count) by more than float rounding.
    public var bfloat16Gradients: Bool = false
    /// Compare replica checksums every this many steps (0: never).
    public var checkReplicasEvery: Int = 50
    public var metricsPath: String? = nil
    /// Directory for TensorBoard event files (`--tensorboard`), written by rank 0; nil for none.
    public var tensorboardDirectory: String? = nil
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

    /// The most steps a run or a phase may ask for (and `--stop-after` may name), 2^40: far beyond any run,
    /// and small enough that a phase's start (at most 2^52) plus its steps cannot overflow.
    public static let maximumSteps = 1 << 40

    /// The largest candidate pool b/ρ accepted (2^40): beyond any machine's memory, and far inside Int.
    public static let maximumPool = 1 << 40

    /// Number of candidates per selecting step, B = b/ρ rounded to the nearest integer (b for vanilla).
    public var poolSize: Int { policy.poolSize(batchSize: batchSize, selectFraction: selectFraction) }

    /// Whether selection starts once the model has learned `--sift-start-learned` of the unigram loss
    /// (`SiftStart`) rather than at the sifting delay alone: the one test of that gate.
    public var startsByLearnedShare: Bool { policy.selects && siftStartLearned > 0 }

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
            return ScoringPath(
                exitLayer: exitLayer, positions: scorePositions, classes: scoreVocabulary,
                reusesForward: reuseScoringForward)
        }
    }

    /// The optimizer step after which a budget-fitted schedule's length is fixed: past the warm-up and the
    /// sifting delay. (A start by `--sift-start-learned` comes later, at an unknown step; the periodic re-fit
    /// follows the step time it brings.)
    public var calibrationEnd: Int {
        max(warmupSteps, policy.selects ? siftDelay : 0) + calibrationSteps
    }

    /// Why the threshold exchange cannot select for these options, or nil when it can: it finds the `top`
    /// rule's b-th largest score without gathering the pool, so it needs a selecting policy, the `top`
    /// rule and no stale-score table (whose every rank records the whole pool's scores).
    public var thresholdExchangeProblem: String? {
        if !policy.selects { return "needs a selecting policy (--policy \(policy.rawValue) selects nothing)" }
        if effectiveRule != .top { return "serves only --rule top (got \(effectiveRule.rawValue))" }
        if policy.scores && staleScores > 0 { return "cannot keep --stale-scores (every rank records the whole pool's scores)" }
        return nil
    }
}
