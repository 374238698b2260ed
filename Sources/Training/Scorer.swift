import Core
import Data
import Model

/// The one scoring loop: per-sample MLM losses along a `ScoringPath`, at most `microBatch` samples per
/// forward. The trainer's scoring and fidelity checks, `sift bench --only fidelity` and `sift score` all
/// score through it, so that what the bench measures is what `sift train` does.
public final class Scorer {
    public let model: BertForMaskedLM
    public let path: ScoringPath
    /// The kept activations of a path that reuses its forward (nil otherwise); reset by every `score` call.
    public let prefix: ActivationPrefix?
    /// Checks every batch against the model before it runs (for samples from outside, as `sift score` reads).
    public var validatesBatches = false
    private let vocabulary: ScoringVocabulary?
    private let microBatch: Int
    private var batches: BatchCache?

    /// - Parameters:
    ///   - reference: the training data's unigram reference; required when `path.classes > 0`.
    ///   - microBatch: samples per forward pass.
    public init(model: BertForMaskedLM, path: ScoringPath, reference: UnigramReference? = nil, microBatch: Int) {
        precondition(
            path.classes == 0 || reference?.negativeLogProbability.count == model.config.vocabSize,
            "a scoring vocabulary needs the unigram counts of the model's vocabulary")
        precondition((1...model.config.numLayers).contains(path.exitLayer) && microBatch >= 1, "invalid scoring path")
        self.model = model
        self.path = path
        self.microBatch = microBatch
        vocabulary = path.classes > 0 ? ScoringVocabulary(reference: reference!.negativeLogProbability, size: path.classes) : nil
        prefix = path.reusesForward ? model.activationPrefix(depth: path.exitLayer) : nil
    }

    /// The dropout seed of a reused forward for (seed, counter): that of the training forward of step `counter`.
    public static func dropoutSeed(seed: UInt64, counter: Int) -> UInt64 { RandomStream.dropout.key(seed: seed, counter: counter) }

    /// Scores `samples` (global index, epoch) of `source` in order, one micro-batch at a time, calling
    /// `body(first, batch, losses, chunk)` after each: the offset in `samples` of the micro-batch's first
    /// sample, the filled batch, its per-sample losses and, for a reused forward, the prefix chunk that
    /// holds its activations (row r is sample `first + r`).
    /// - Parameters:
    ///   - seed, counter: key the path's random streams (dropout, kept positions): the run's seed and the step.
    ///   - times: adds the time spent filling batches to `data` and scoring them to `scoring`.
    /// - Throws: `BatchError` when `validatesBatches` is set and a batch does not fit the model.
    public func score(
        _ samples: [(index: Int, epoch: Int)], from source: MLMSampleSource, seed: UInt64, counter: Int,
        times: inout PhaseTimes, _ body: (Int, MLMBatch, [SampleLoss], Int?) -> Void
    ) throws {
        if batches?.seqLen != source.seqLen { batches = BatchCache(largest: microBatch, seqLen: source.seqLen) }
        let positions =
            path.positions > 0
            ? (limit: path.positions, key: RandomStream.scoringPositions.key(seed: seed, counter: counter)) : nil
        let dropoutSeed = Scorer.dropoutSeed(seed: seed, counter: counter)
        prefix?.reset()
        var first = 0
        while first < samples.count {
            let part = samples[first..<min(first + microBatch, samples.count)]
            let batch = timed(&times.data) { batches!.fill(part, from: source, positions: positions) }
            if validatesBatches, let problem = batch.validationError(for: model.config) { throw problem }
            let (losses, chunk) = timed(&times.scoring) { () -> ([SampleLoss], Int?) in
                guard let prefix else { return (model.sampleLosses(batch, exitLayer: path.exitLayer, vocabulary: vocabulary), nil) }
                let kept = model.scoreKeepingPrefix(batch, dropoutSeed: dropoutSeed, into: prefix, vocabulary: vocabulary)
                return (kept.losses, kept.chunk)
            }
            body(first, batch, losses, chunk)
            first += part.count
        }
    }

    /// The mean loss per masked token of each of `samples`, in order (see `score`).
    public func losses(_ samples: [(index: Int, epoch: Int)], from source: MLMSampleSource, seed: UInt64, counter: Int) throws -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(samples.count)
        var times = PhaseTimes()
        try score(samples, from: source, seed: seed, counter: counter, times: &times) { _, _, losses, _ in
            out += losses.map(\.meanLoss)
        }
        return out
    }
}

extension Scorer {
    /// Per-sample statistics (loss sum, masked tokens, correct predictions) of `samples`, in order, for a
    /// path without random streams (see `score`).
    public func sampleLosses(_ samples: [(index: Int, epoch: Int)], from source: MLMSampleSource) throws -> [SampleLoss] {
        var out: [SampleLoss] = []
        var times = PhaseTimes()
        try score(samples, from: source, seed: 0, counter: 0, times: &times) { _, _, losses, _ in out += losses }
        return out
    }
}
