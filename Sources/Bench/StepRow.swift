/// One timed training step (vanilla, or SIFT at an exit layer).
public struct StepRow: Codable, Sendable {
    public var config: String
    /// "vanilla" or "sift".
    public var step: String
    public var exitLayer: Int?
    /// Masked positions per candidate the scoring used (nil: all).
    public var scorePositions: Int?
    /// Whether the training forward resumed from the scoring forward (nil for vanilla).
    public var reuseScoringForward: Bool?
    /// Classes the scoring head computed (`--score-vocabulary`; nil: all).
    public var scoreVocabulary: Int?
    public var batch: Int
    public var pool: Int?
    public var seconds: Double
    public var forwardBackwardSeconds: Double
    public var optimizerSeconds: Double
    public var scoringSeconds: Double?
    public var tokensPerSPerRank: Double
    public var tokensPerSAllRanks: Double
    /// Dense-equivalent matmul FLOPs of the step (every layer at every position; `gflops` and `mfu` use it).
    public var flops: Double
    /// Matmul FLOPs the engine executed: the layer only the head reads at the masked positions only.
    public var executedFlops: Double?
    public var gflops: Double
    public var mfu: Double?
    /// Vanilla rows: the same step with `--dense-last-layer` (the last layer at every position), seconds.
    public var denseLastLayerSeconds: Double?
    public var scoringShare: Double?
    public var predictedScoringShare: Double?
    public var overhead: Double?
    public var predictedOverhead: Double?
    public var ranks: Int
    public var threadsPerRank: Int
    public var vocabSize: Int
    public var seqLen: Int
}
