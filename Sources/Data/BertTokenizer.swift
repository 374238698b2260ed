/// BERT WordPiece tokenizer producing the same ids as HuggingFace's `BertTokenizer` on the
/// same vocab.txt: `BasicTokenizer` followed by greedy longest-match-first WordPiece with
/// `##` continuation pieces; a word longer than 100 scalars, or one that cannot be covered by
/// vocabulary pieces, becomes a single [UNK].
public final class BertTokenizer: Sendable {
    /// HuggingFace's `max_input_chars_per_word`.
    public static let maxWordScalars = 100

    public let vocabulary: Vocabulary
    public let basic: BasicTokenizer

    public init(vocabulary: Vocabulary, cased: Bool) {
        self.vocabulary = vocabulary
        self.basic = BasicTokenizer(cased: cased)
    }

    /// The same tokenizer with a vocabulary of its own (`Vocabulary.independentCopy`), for one worker thread.
    public func independentCopy() -> BertTokenizer {
        BertTokenizer(vocabulary: vocabulary.independentCopy(), cased: basic.cased)
    }

    /// WordPiece pieces of `text` (no [CLS]/[SEP]).
    public func tokenize(_ text: String) -> [String] {
        var pieces: [String] = []
        basic.forEachWord(in: text) { word in
            wordPiece(word) { _, piece in pieces.append(piece) }
        }
        return pieces
    }

    /// Token ids of `text` (no [CLS]/[SEP]).
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        encode(text, appendingTo: &ids)
        return ids
    }

    /// Appends the token ids of `text` to `ids`.
    public func encode(_ text: String, appendingTo ids: inout [Int32]) {
        basic.forEachWord(in: text) { word in
            wordPiece(word) { id, _ in ids.append(id) }
        }
    }

    /// WordPiece of one basic-tokenized word: calls `body(id, pieceString)` per piece.
    /// Candidate pieces never exceed the longest vocabulary entry, which leaves the greedy
    /// longest-match result unchanged while bounding the work per word.
    public func wordPiece(_ word: String, _ body: (Int32, String) -> Void) {
        // Whole word in the vocabulary is the common case; ≤ 100 UTF-8 bytes implies ≤ 100 scalars.
        if word.utf8.count <= Self.maxWordScalars, let id = vocabulary.id(of: word) {
            body(id, word)
            return
        }
        let chars = Array(word.unicodeScalars)
        if chars.count > Self.maxWordScalars {
            body(vocabulary.unkId, "[UNK]")
            return
        }
        if let id = vocabulary.id(of: word) {
            body(id, word)
            return
        }
        var found: [(Int32, String)] = []
        var start = 0
        while start < chars.count {
            var end = min(chars.count, start + vocabulary.maxPieceScalars)
            var match: (Int32, String)?
            while start < end {
                var candidate = start > 0 ? "##" : ""
                candidate.unicodeScalars.append(contentsOf: chars[start..<end])
                if let id = vocabulary.id(of: candidate) {
                    match = (id, candidate)
                    break
                }
                end -= 1
            }
            guard let piece = match else {
                body(vocabulary.unkId, "[UNK]")
                return
            }
            found.append(piece)
            start = end
        }
        for (id, piece) in found { body(id, piece) }
    }
}
