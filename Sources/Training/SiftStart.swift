import Foundation

/// When a selecting run starts to select: after `--sift-delay` steps and, with `--sift-start-learned F`,
/// once the model has learned a share F of what a unigram model cannot predict.
///
/// The *learned share* of a step is 1 − (training loss) / (the unigram model's loss on the same masked
/// tokens): 0 on the unigram plateau, where the model predicts token frequencies and selection holds it
/// (docs/DECISIONS.md), rising as it learns. Unlike a step count it means the same across model sizes,
/// learning rates and corpora. Its exponential average over about `1/(1 − decay)` steps (bias-corrected
/// like Adam's moments) opens the gate once; from the next step on the run selects. Every input is a
/// global sum agreed by all ranks, so the gate opens at the same step on every rank and for every rank
/// count; the state is saved in checkpoints, so a resumed run opens it where the uninterrupted one does.
public struct SiftStart: Codable, Sendable, Equatable {
    /// Smoothing of the learned share: an average over roughly the last 50 steps.
    public static let decay = 0.98

    /// Exponential average of the learned share (not bias-corrected).
    public private(set) var average = 0.0
    /// Steps averaged so far.
    public private(set) var observed = 0
    /// The first selecting step (0-based), once known.
    public private(set) var startStep: Int?

    /// The gate of `options`: already decided when it does not depend on the learned share — at
    /// `--sift-delay`, or never for a policy that does not select.
    public init(options: TrainingOptions) {
        if !options.policy.selects { startStep = Int.max } else if !options.startsByLearnedShare { startStep = options.siftDelay }
    }

    /// Whether `observe` still needs the step's unigram loss.
    public var isPending: Bool { startStep == nil }

    /// The bias-corrected average learned share (0 before any step).
    public var learnedShare: Double {
        observed > 0 ? average / (1 - pow(Self.decay, Double(observed))) : 0
    }

    /// Records step `step`'s (0-based) global training loss and unigram loss of the same masked tokens
    /// (both means in nats) and opens the gate at step `step + 1` once the run is past `--sift-delay`
    /// and the average learned share has reached `--sift-start-learned`.
    public mutating func observe(step: Int, trainLoss: Double, unigramLoss: Double, options: TrainingOptions) {
        guard isPending, unigramLoss > 0 else { return }
        average = Self.decay * average + (1 - Self.decay) * (1 - trainLoss / unigramLoss)
        observed += 1
        if step + 1 >= options.siftDelay && learnedShare >= options.siftStartLearned { startStep = step + 1 }
    }

    /// Whether step `step` (0-based) selects.
    public func selects(atStep step: Int) -> Bool { startStep.map { step >= $0 } ?? false }

    /// Candidates drawn at step `step`: b before the start, the pool after.
    public func poolSize(atStep step: Int, options: TrainingOptions) -> Int {
        selects(atStep: step) ? options.poolSize : options.batchSize
    }

    /// Position in the candidate stream where step `step`'s pool starts: b per plain step, the pool size per
    /// selecting step, counted from `phaseStreamStart` at step `phaseStart` (a new phase may change b; the first
    /// phase starts at 0, 0). A function of the step and the saved start alone, so a resumed run draws the same pools.
    public func streamStart(atStep step: Int, options: TrainingOptions, phaseStart: Int = 0, phaseStreamStart: Int = 0) -> Int {
        let plainEnd = max(phaseStart, min(step, startStep ?? step))
        return phaseStreamStart + (plainEnd - phaseStart) * options.batchSize + (step - plainEnd) * options.poolSize
    }
}
