/// The random streams of a run, each named once: its word is the salt folded into `CounterHash` beside
/// the seed, so no two streams share values and a stream means the same thing in every module that
/// draws from it (the trainer, the fidelity bench, `sift score`).
public enum RandomStream: UInt64, CaseIterable, Sendable {
    /// The order of the candidate stream: Fisher–Yates swaps per (seed, epoch, position).
    case candidateOrder = 0xE70C
    /// The dropout masks of one step's training forward (and of the scoring forward it reuses).
    case dropout = 0xD809
    /// Which masked positions a candidate is scored from (`--score-positions`), per (seed, step).
    case scoringPositions = 0x5C0E
    /// The positions kept within one sample, per (positions key, sample, position).
    case keptPosition = 0x5C09
    /// The validation split's masks: the seed is the run's seed XOR this word, so they differ from
    /// every training epoch's masks.
    case validationMasks = 0x5A11_DA7E
    /// The uniforms of the `proportional` and `relative` rules' draws, per (seed, step, sample).
    case selectionDraw = 0x5E1EC7
    /// Which documents are held out for validation by `sift prepare`, per (seed, document).
    case validationSplit = 0x5641_4C49_4441_5445
    /// The fixed subset of `--train-subset`, per sample.
    case trainSubset = 0x5B5E7
    /// The initial weights, per (seed, tensor index in the layout).
    case initialisation = 0x1417
    /// The initial values of a tensor a checkpoint lacks, per (seed, tensor name): word 0, so that the key is
    /// the seed itself, folded with the name's hash, as these values were drawn before the streams were named.
    case initialisationByName = 0
    /// Whether a position is selected for masking, per (seed, epoch, sample, position): the first of
    /// `MLMMasker`'s four streams, whose words are the small integers they were drawn with before being named.
    case maskSelection = 1
    /// Whether a selected position becomes [MASK], a random token or stays, per (seed, epoch, sample, position).
    case maskCorruption = 2
    /// The random token replacing a selected position, per (seed, epoch, sample, position).
    case maskReplacement = 3
    /// The position selected in a sequence that drew none, per (seed, epoch, sample).
    case maskFallback = 4
    /// The order whole-word masking (`--mask words`) draws a sequence's words in: Fisher–Yates swaps per
    /// (seed, epoch, sample, draw).
    case wholeWordOrder = 0x3040D
    /// Synthetic losses of `sift debug-select` and the selection tests, per (seed, sample).
    case syntheticLoss = 0x7E57
    /// Synthetic tokens of `sift bench`'s step section, per (salt, sample, position).
    case benchTokens = 0xBE7C

    /// The stream's 64-bit key for (seed, counter): `CounterHash.bits(seed, word, counter, 0)`; e.g. the
    /// dropout seed of step `counter`.
    @inlinable
    public func key(seed: UInt64, counter: Int) -> UInt64 {
        CounterHash.bits(seed, rawValue, UInt64(counter), 0)
    }

    /// A seed derived from `seed` for this stream (`seed ^ word`), for generators that take a seed.
    @inlinable
    public func seed(from seed: UInt64) -> UInt64 { seed ^ rawValue }
}
