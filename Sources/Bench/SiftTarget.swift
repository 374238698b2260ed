/// The verdict on one of SIFT's overhead targets: in `sift train --policy sift`'s default configuration (exit
/// layer, ρ and scoring path), a SIFT step costs at most `limit` more than a vanilla step (BERT-base ≤ +5%,
/// BERT-mini ≤ +10%).
public struct SiftTarget: Codable, Sendable {
    public var config: String
    public var exitLayer: Int
    public var selectFraction: Double
    public var batch: Int
    /// Classes of the scoring head (nil: the whole vocabulary) and the vocabulary size, which the mini
    /// target names (V 30522 and V 8192).
    public var scoreVocabulary: Int?
    public var vocabSize: Int
    /// SIFT step time / vanilla step time − 1, both measured in this run back to back; the verdict.
    public var overhead: Double
    /// The overhead the FLOP count predicts (matrix products only), printed beside the verdict as a check
    /// on a noisy measurement.
    public var predictedOverhead: Double
    public var limit: Double
    /// `overhead <= limit`.
    public var met: Bool
}
