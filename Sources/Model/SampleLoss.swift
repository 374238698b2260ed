/// Per-sample statistics of an MLM forward pass.
public struct SampleLoss: Sendable, Equatable {
    /// Sum of cross-entropy over the sample's masked tokens, in nats.
    public var lossSum: Float
    /// Number of masked (labelled) tokens in the sample.
    public var maskedTokens: Int
    /// Masked tokens whose argmax prediction equals the label.
    public var correct: Int

    public init(lossSum: Float = 0, maskedTokens: Int = 0, correct: Int = 0) {
        self.lossSum = lossSum
        self.maskedTokens = maskedTokens
        self.correct = correct
    }

    /// Mean cross-entropy per masked token (0 when the sample has none).
    public var meanLoss: Float { maskedTokens > 0 ? lossSum / Float(maskedTokens) : 0 }
}
