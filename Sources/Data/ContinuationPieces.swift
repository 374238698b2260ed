/// Which ids of a vocabulary are WordPiece continuation pieces (tokens spelled with a leading `##`): one
/// bit per id, derived once from the vocabulary, so that whole-word masking finds word boundaries
/// without strings.
public struct ContinuationPieces: Sendable, Equatable {
    private let words: [UInt64]
    /// Number of ids covered (the vocabulary size).
    public let count: Int

    /// The bitmap of `tokens` (indexed by id): bit `id` is set when `tokens[id]` starts with "##".
    public init(tokens: [String]) {
        var words = [UInt64](repeating: 0, count: (tokens.count + 63) / 64)
        for (id, token) in tokens.enumerated() where token.hasPrefix("##") {
            words[id >> 6] |= 1 << UInt64(id & 63)
        }
        self.words = words
        self.count = tokens.count
    }

    /// Whether `id` is a continuation piece; ids outside the vocabulary are not.
    @inline(__always)
    public func contains(_ id: Int32) -> Bool {
        guard id >= 0 && Int(id) < count else { return false }
        return words[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0
    }
}
