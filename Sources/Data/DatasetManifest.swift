/// `manifest.json` of a dataset written by `sift prepare`. Its presence marks a complete
/// dataset: it is written last, inside a temporary directory that is renamed into place.
public struct DatasetManifest: Codable, Equatable, Sendable {
    public static let formatName = "sift-mlm-shards"
    public static let fileName = "manifest.json"
    /// The copy of the vocabulary the dataset was tokenized with.
    public static let vocabFileName = "vocab.txt"

    public var format: String = DatasetManifest.formatName
    public var version: Int = 1
    /// Tokens per sequence, including [CLS] and [SEP].
    public var seqLen: Int
    public var vocabSize: Int
    /// FNV-1a 64 (hex) of the vocab.txt bytes.
    public var vocabHash: String
    public var cased: Bool
    /// "uint16" or "uint32"; ids are little-endian.
    public var tokenDtype: String
    public var seed: UInt64
    public var validationFraction: Double
    /// Sequences per shard file (the last shard of a split may hold fewer).
    public var sequencesPerShard: Int
    public var documents: Int
    public var trainDocuments: Int
    public var validationDocuments: Int
    /// Content tokens from the corpus (excluding [CLS]/[SEP]/[PAD] added by packing).
    public var tokens: Int
    public var trainTokens: Int
    public var validationTokens: Int
    public var trainSequences: Int
    public var validationSequences: Int
    public var corpusBytes: Int
    public var invalidUTF8Sequences: Int
    public var skippedBinaryFiles: Int
    public var trainShards: [ShardInfo]
    public var validationShards: [ShardInfo]
    /// How the corpus was read (`text`, `rst`, `jsonl`); nil in datasets from before formats existed.
    public var corpusFormat: String? = nil
    /// Lines removed as reStructuredText markup.
    public var markupLinesRemoved: Int? = nil
    /// Share of content tokens inside runs of ≥ 4 identical tokens, per split: the share of masked
    /// labels that copying a neighbour predicts (reStructuredText underlines inflate it).
    public var trainRepeatRunShare: Double? = nil
    public var validationRepeatRunShare: Double? = nil
    /// JSON Lines records skipped: lines that are not a JSON object, and objects without a string text
    /// field. nil in datasets from before it was counted.
    public var skippedRecords: Int? = nil
    /// The JSON Lines field the text was read from; nil unless the corpus was read as JSON Lines.
    public var textField: String? = nil

    /// Bytes per stored token id.
    public var tokenBytes: Int { tokenDtype == "uint16" ? 2 : 4 }

    public func shards(_ split: DatasetSplit) -> [ShardInfo] { split == .train ? trainShards : validationShards }
    public func sequences(_ split: DatasetSplit) -> Int { split == .train ? trainSequences : validationSequences }

    /// The settings that define "the same dataset" (everything except the corpus contents):
    /// a differing value means an existing output directory holds a different dataset.
    /// `other` is the existing dataset, `self` the requested one.
    public func settingsDifference(from other: DatasetManifest) -> String? {
        func differ(_ name: String, _ existing: Any, _ requested: Any) -> String {
            "existing \(name) \(existing), requested \(requested)"
        }
        if seqLen != other.seqLen { return differ("seq-len", other.seqLen, seqLen) }
        if vocabHash != other.vocabHash { return differ("vocab hash", other.vocabHash, vocabHash) }
        if vocabSize != other.vocabSize { return differ("vocab size", other.vocabSize, vocabSize) }
        if cased != other.cased { return differ("cased", other.cased, cased) }
        if seed != other.seed { return differ("seed", other.seed, seed) }
        if validationFraction != other.validationFraction {
            return differ("validation fraction", other.validationFraction, validationFraction)
        }
        if sequencesPerShard != other.sequencesPerShard {
            return differ("sequences per shard", other.sequencesPerShard, sequencesPerShard)
        }
        return nil
    }
}
