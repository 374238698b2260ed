import Foundation

/// Result of evaluating the held-out split.
public struct EvaluationResult: Sendable {
    /// Mean cross-entropy over masked tokens, nats.
    public var loss: Double
    /// Correct argmax predictions over masked tokens.
    public var accuracy: Double
    public var maskedTokens: Int
    /// A unigram model's mean loss on the same masked tokens (token frequencies of the training data), nats;
    /// nil when the trainer has no unigram reference.
    public var unigramLoss: Double? = nil

    /// 1 − loss / unigram loss: the share of the unigram model's loss the model has learned (`SiftStart`).
    public var learnedShare: Double? { unigramLoss.flatMap { $0 > 0 ? 1 - loss / $0 : nil } }
}
