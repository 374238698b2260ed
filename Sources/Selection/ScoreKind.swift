/// What a candidate is ranked by.
public enum ScoreKind: String, CaseIterable, Sendable, Codable {
    /// The (approximate) MLM loss of the sample's masked tokens.
    case loss
    /// Reducible loss in the spirit of RHO-LOSS: the loss minus a free reference loss of the same
    /// masked labels (their mean −log unigram frequency in the training shards), so content that is
    /// hard only because it is rare does not crowd out what the model can still learn.
    case reducible
}
