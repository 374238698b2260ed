/// What one masking draw covers (`sift train --mask`): a single WordPiece (BERT's original masking) or
/// every piece of a word together (whole-word masking, as Google's BERT and HuggingFace's
/// `DataCollatorForWholeWordMask` do it).
public enum MaskingMode: String, CaseIterable, Sendable, Codable {
    /// Each non-special position is selected independently with the masking probability.
    case tokens
    /// Words (a piece not starting with `##` and the `##` pieces that follow it) are chosen in a random
    /// order until the token budget round(n × probability) would be exceeded; all their pieces are masked.
    case words
}
