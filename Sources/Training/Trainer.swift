import Communication
import Core
import Data
import Foundation
import Kernels
import Model
import Selection

/// The data-parallel SIFT training loop: every rank holds a full replica of the model.
///
/// One step: draw a pool of B = b/ρ candidates from the deterministic stream; each rank scores its
/// share with the early-exit loss; ranks agree on the global top b (`GlobalSelection`); each rank
/// forwards and backpropagates its (rebalanced) part of the selection with loss weight
/// 1/(global masked tokens), so the summed gradient is that of the mean loss over all selected
/// tokens; gradients are summed over ranks in buckets overlapped with backward; every rank applies
/// the same optimizer update (`--optimizer`: AdamW or LAMB). Every random draw is keyed by (seed, step, global sample index), so the
/// selection and the weights do not depend on the number of ranks.
public final class Trainer {
    /// The options given, with `--selection-exchange auto` resolved for this job's ranks (`resolvingExchange`).
    public let options: TrainingOptions
    public let model: BertForMaskedLM
    public let communicator: any Collectives
    let train: MLMSampleSource
    let validation: MLMSampleSource?
    let vocabHash: String
    /// `--optimizer`'s update rule (AdamW or LAMB); its moments go into checkpoints.
    let optimizer: any ParameterOptimizer
    let buckets: GradientBuckets
    /// Step-based, or open until fitted to the time budget after calibration (then saved in checkpoints).
    var schedule: LearningRateSchedule
    var fittedSchedule: FittedSchedule?
    /// Rolling score history of the `relative` rule (nil for other rules); saved in checkpoints.
    var history: ScoreHistory?
    /// Each sample's last score, reused for `--stale-scores` steps, or under `last-loss` its training loss
    /// from the last step that backpropagated it (nil when scores are always fresh).
    var staleTable: StaleScoreTable?
    /// −log unigram frequency per token, for the reducible score, the scoring vocabulary and `--sift-start-learned`.
    let reference: UnigramReference?
    /// When selection starts (`--sift-delay`, `--sift-start-learned`); saved in checkpoints.
    var siftStart: SiftStart
    /// The scoring forward of a selecting step (nil: the policy has none).
    let scorer: Scorer?
    /// The exact loss (last layer, no dropout) of validation and of `--fidelity-every`.
    let exactScorer: Scorer
    /// The scoring forward's activations, kept for the training forward (`--reuse-scoring-forward`).
    var prefix: ActivationPrefix? { scorer?.prefix }
    /// Where each position of this rank's pool share was kept by the scoring forward (nil: not scored
    /// here this step); rewritten every step.
    var prefixSlots: [PrefixSlot?] = []
    /// Recent step times (slowest rank) while calibrating a budget-fitted schedule.
    var calibrationTimes: [Double] = []
    let stream: CandidateStream
    let selection: GlobalSelection
    /// Reusable batches of the training forward and evaluation, so steady-state steps allocate none.
    var batches: BatchCache
    /// Optimizer steps completed over every phase (what the metrics, progress lines and checkpoints show).
    var step = 0
    /// The step at which this phase began (`--phase-from`; 0 for a first phase): the learning-rate schedule
    /// counts from here and the run ends at `phaseStart + --steps`.
    var phaseStart = 0
    /// Where this phase began in the candidate stream (`SiftStart.streamStart`).
    var phaseStreamStart = 0
    var samplesScored = 0
    var samplesBackpropagated = 0
    var elapsedBefore = 0.0
    let output: (String) -> Void
    /// Watches each step from outside its recipe: the watchdog, the phase times, the injected faults.
    let monitor: StepMonitor
    /// Aborts the job when a phase stalls (nil when `--watchdog-seconds` is 0); stopped when the run ends
    /// or the trainer is dropped (with its monitor).
    public var watchdog: Watchdog? { monitor.watchdog }

    /// - Parameters:
    ///   - train: training samples (masked at load time, keyed by epoch and global index).
    ///   - validation: held-out samples with fixed masks, or nil to skip evaluation.
    ///   - reference: the unigram reference of the reducible score (required when `options.score` is `.reducible`).
    ///   - output: where rank 0's progress lines go.
    public init(
        options: TrainingOptions, model: BertForMaskedLM, communicator: any Collectives,
        train: MLMSampleSource, validation: MLMSampleSource?, vocabHash: String,
        reference: UnigramReference? = nil, output: @escaping (String) -> Void
    ) {
        let options = options.resolvingExchange(ranks: communicator.size)
        precondition(options.score == .loss || reference != nil, "the reducible score needs a unigram reference")
        precondition(
            options.scoreVocabulary == 0 || reference?.negativeLogProbability.count == model.config.vocabSize,
            "--score-vocabulary needs the unigram counts of the model's vocabulary")
        precondition(
            !options.startsByLearnedShare
                || reference?.negativeLogProbability.count == model.config.vocabSize,
            "--sift-start-learned needs the unigram counts of the model's vocabulary")
        siftStart = SiftStart(options: options)
        self.reference = reference
        model.denseLastLayer = options.denseLastLayer
        scorer = options.scoringPath(numLayers: model.config.numLayers).map {
            Scorer(model: model, path: $0, reference: reference, microBatch: options.microBatch)
        }
        exactScorer = Scorer(model: model, path: .exact(numLayers: model.config.numLayers), microBatch: options.microBatch)
        self.options = options
        self.model = model
        self.communicator = communicator
        self.train = train
        self.validation = validation
        self.vocabHash = vocabHash
        self.output = output
        optimizer = options.optimizer.make(layout: model.layout, weightDecay: options.weightDecay)
        buckets = GradientBuckets(
            gradients: model.gradients, communicator: communicator,
            bucketBytes: options.bucketBytes, overlap: options.overlap, bfloat16: options.bfloat16Gradients)
        schedule =
            options.fitsScheduleToBudget
            ? .open(peak: options.learningRate, warmupSteps: options.warmupSteps)
            : LearningRateSchedule(peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps)
        history = options.keepsScoreHistory ? ScoreHistory(capacity: options.historyLength) : nil
        staleTable = options.scoreReuseSteps > 0 ? StaleScoreTable(samples: train.count, maxAge: options.scoreReuseSteps) : nil
        stream = CandidateStream(sampleCount: train.count, seed: options.seed)
        selection = GlobalSelection(communicator: communicator)
        batches = BatchCache(largest: options.microBatch, seqLen: train.seqLen)
        monitor = StepMonitor(options: options, communicator: communicator)
    }

    var isRoot: Bool { communicator.isRoot }

    // MARK: - Batches

    /// A batch filled with the given global samples (index, epoch) from `source`, from the cache.
    func fill(_ samples: ArraySlice<(index: Int, epoch: Int)>, from source: MLMSampleSource) -> MLMBatch {
        batches.fill(samples, from: source)
    }
}
