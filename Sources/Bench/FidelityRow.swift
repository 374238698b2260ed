/// How well one scoring path ranks candidates like the exact loss (`sift bench --only fidelity`).
public struct FidelityRow: Codable, Sendable {
    public var exitLayer: Int
    /// Masked positions per candidate the path scores (nil: all).
    public var scorePositions: Int?
    /// Scored with the training forward's dropout, as `--reuse-scoring-forward` scores.
    public var reuseScoringForward: Bool
    /// Classes the path's head computes (`--score-vocabulary`; nil: all).
    public var scoreVocabulary: Int?
    public var pools: Int
    /// Mean Spearman correlation with the exact loss over the pools (nil if no pool had spread).
    public var spearman: Double?
    /// Mean share of the path's top b that is in the exact top b.
    public var topOverlap: Double
    /// The same path's SIFT step overhead over vanilla from this run's step table, for `overheadConfig`.
    public var overhead: Double?
    public var overheadConfig: String?
}
