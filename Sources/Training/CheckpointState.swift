import Core
import Foundation
import Kernels
import Model
import Selection

/// What a training checkpoint records besides the three flat buffers.
public struct CheckpointState: Codable, Equatable, Sendable {
    /// Format version of the file.
    public var version: Int = 1
    public var config: BertConfig
    /// Optimizer steps completed.
    public var step: Int
    /// The run's seed; with `step` it fixes the data position and every random draw that follows.
    public var seed: UInt64
    /// Cumulative candidates scored and samples backpropagated, over all ranks.
    public var samplesScored: Int
    public var samplesBackpropagated: Int
    /// Training wall time so far, seconds (for `--time-budget` across resumes).
    public var elapsedSeconds: Double
    /// The settings that must not change across a resume (policy, batch, ρ, …), as a string.
    public var runFingerprint: String
    /// Hash of the vocabulary the model was trained with.
    public var vocabHash: String
    /// Length and decay start of a learning-rate schedule fitted to `--time-budget` (nil while the
    /// schedule is step-based or not yet fitted), so a resumed run keeps the same schedule.
    public var fittedSchedule: FittedSchedule? = nil
    /// The rolling score history of the `relative` selection rule, oldest first.
    public var scoreHistory: [Float]? = nil
    /// The stale-score table (`--stale-scores`), nil when scores are always fresh.
    public var staleScores: StaleScoreTable.Snapshot? = nil
    /// The `--sift-start-learned` gate: its average learned share and, once open, the first selecting step.
    public var siftStart: SiftStart? = nil
    /// Tokens per training sequence of the data this checkpoint was trained on (nil in checkpoints written
    /// before it was recorded, which are not checked). A plain resume must keep it; a new phase
    /// (`--phase-from`) may change it.
    public var seqLen: Int? = nil
    /// The global step at which this checkpoint's phase began (`--phase-from`; nil: 0, the first phase).
    /// The learning-rate schedule of the phase counts from it; `step` counts over every phase.
    public var phaseStart: Int? = nil
    /// Where this checkpoint's phase began in the candidate stream (nil: 0). A new phase may change the batch
    /// size, so its positions are counted from here, not from step 0 at its own batch size.
    public var phaseStreamStart: Int? = nil
    /// Where the next step's candidates start in the stream (nil in checkpoints written before it was
    /// recorded): where a new phase from this checkpoint continues.
    public var streamPosition: Int? = nil

    public init(
        config: BertConfig, step: Int, seed: UInt64, samplesScored: Int, samplesBackpropagated: Int,
        elapsedSeconds: Double, runFingerprint: String, vocabHash: String
    ) {
        self.config = config
        self.step = step
        self.seed = seed
        self.samplesScored = samplesScored
        self.samplesBackpropagated = samplesBackpropagated
        self.elapsedSeconds = elapsedSeconds
        self.runFingerprint = runFingerprint
        self.vocabHash = vocabHash
    }
}
