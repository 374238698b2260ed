import Kernels

/// The classes the scoring head computes logits for (`sift train --score-vocabulary K`): the K most
/// frequent tokens of the training data, plus each masked position's own label.
///
/// At V 30522 the MLM decoder (2·H·V FLOPs per masked token) is ~90% of an exit-1 scoring pass on
/// BERT-mini. Scored over K classes the loss is a lower bound of the full one, missing only the mass
/// of the rare tokens that are not the label; ranking candidates needs the order of their mean losses,
/// which the frequent classes carry (`sift bench --only fidelity` measures it against the exact loss).
public struct ScoringVocabulary: Sendable, Equatable {
    /// Token ids in the subset, most frequent first: `[K]`.
    public let ids: [Int32]
    /// Each token's column in the subset, or −1 when it is outside: `[V]`.
    public let columns: [Int32]

    /// The `size` tokens with the smallest `reference` values (a −log unigram frequency, so the most
    /// frequent), ties broken by the smaller id; all of them when `size` ≥ V.
    public init(reference: [Float], size: Int) {
        let order = reference.indices.sorted { (reference[$0], $0) < (reference[$1], $1) }
        self.init(ids: order.prefix(max(0, size)).map { Int32($0) }, vocabularySize: reference.count)
    }

    /// A subset given by its ids (in column order) out of a vocabulary of `vocabularySize` tokens.
    public init(ids: [Int32], vocabularySize: Int) {
        precondition(ids.allSatisfy { (0..<Int32(vocabularySize)).contains($0) }, "scoring vocabulary id out of range")
        var columns = [Int32](repeating: -1, count: vocabularySize)
        for (c, id) in ids.enumerated() { columns[Int(id)] = Int32(c) }
        self.ids = ids
        self.columns = columns
    }

    /// K.
    public var count: Int { ids.count }

    /// Equal subsets of equal vocabularies (`columns` follows from `ids` and V, so it is not compared).
    public static func == (a: ScoringVocabulary, b: ScoringVocabulary) -> Bool {
        a.columns.count == b.columns.count && a.ids == b.ids
    }
}
