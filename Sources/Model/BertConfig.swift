/// Sizes and hyper-parameters of a BERT encoder with a masked-language-modelling head.
///
/// Mirrors the fields of HuggingFace's `BertConfig` that the architecture depends on. A value
/// type, separate from the model that uses it, so that checkpoints, the CLI and the trainer can
/// pass it around and compare it.
public struct BertConfig: Codable, Equatable, Sendable {
    /// Number of rows in the word-embedding table (and of MLM logits).
    public var vocabSize: Int
    /// Width H of every hidden state.
    public var hiddenSize: Int
    /// Number L of encoder layers.
    public var numLayers: Int
    /// Number A of attention heads; `hiddenSize` must be divisible by it.
    public var numHeads: Int
    /// Width of the feed-forward layer (4H in the standard sizes).
    public var intermediateSize: Int
    /// Rows of the position-embedding table: the longest sequence the model accepts.
    public var maxPositions: Int
    /// Rows of the token-type (segment) embedding table.
    public var typeVocabSize: Int
    /// LayerNorm epsilon (BERT uses 1e-12).
    public var layerNormEps: Float
    /// Dropout probability after embeddings, attention output and feed-forward output.
    public var hiddenDropout: Float
    /// Dropout probability on attention probabilities.
    public var attentionDropout: Float
    /// Standard deviation of the normal initialisation of weight matrices.
    public var initializerRange: Float
    /// Id of the padding token; its word-embedding row is initialised to zero as in HuggingFace.
    public var padTokenId: Int

    /// Size of one attention head, H / A.
    public var headSize: Int { hiddenSize / numHeads }

    public init(
        vocabSize: Int, hiddenSize: Int, numLayers: Int, numHeads: Int,
        intermediateSize: Int? = nil, maxPositions: Int = 512, typeVocabSize: Int = 2,
        layerNormEps: Float = 1e-12, hiddenDropout: Float = 0.1, attentionDropout: Float = 0.1,
        initializerRange: Float = 0.02, padTokenId: Int = 0
    ) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.intermediateSize = intermediateSize ?? 4 * hiddenSize
        self.maxPositions = maxPositions
        self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps
        self.hiddenDropout = hiddenDropout
        self.attentionDropout = attentionDropout
        self.initializerRange = initializerRange
        self.padTokenId = padTokenId
    }

    /// The standard BERT sizes (Turc et al. 2019 and Devlin et al. 2019) by name, and `deep12`: base's
    /// depth at tiny's width (L 12, H 128, A 2, I 512), so that an exit layer is 1/12 of the encoder as in
    /// BERT-base while a step costs about as much as mini's.
    public static let namedSizes: [(name: String, layers: Int, hidden: Int, heads: Int)] = [
        ("tiny", 2, 128, 2), ("mini", 4, 256, 4), ("small", 4, 512, 8),
        ("medium", 8, 512, 8), ("base", 12, 768, 12), ("deep12", 12, 128, 2), ("large", 24, 1024, 16)
    ]

    /// The named sizes as a comma-separated list, for help texts and error messages.
    public static var sizeNames: String { namedSizes.map(\.name).joined(separator: ", ") }

    /// A standard configuration by name (one of `namedSizes`), or nil.
    public static func named(_ name: String, vocabSize: Int) -> BertConfig? {
        guard let s = namedSizes.first(where: { $0.name == name.lowercased() }) else { return nil }
        return BertConfig(vocabSize: vocabSize, hiddenSize: s.hidden, numLayers: s.layers, numHeads: s.heads)
    }

    /// The largest sizes `validationError` accepts.
    public static let limits = (vocab: 1 << 22, hidden: 1 << 15, layers: 512, intermediate: 1 << 17, positions: 1 << 16, types: 1 << 10)

    /// Checks internal consistency; returns a one-line description of the first problem, or nil.
    public func validationError() -> String? {
        if vocabSize < 5 { return "vocab size \(vocabSize) is too small (needs at least the 5 special tokens)" }
        if hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || intermediateSize <= 0 {
            return "model sizes must be positive (hidden \(hiddenSize), layers \(numLayers), heads \(numHeads), "
                + "intermediate \(intermediateSize))"
        }
        // Bounds far above any BERT (base: V 30522, H 768, L 12, I 3072, P 512) that keep every size
        // product (ParameterLayout, workspaces, FLOP counts) inside Int: sizes come from files (config.json,
        // checkpoint headers), so they are checked before anything is computed or allocated from them.
        if vocabSize > Self.limits.vocab || hiddenSize > Self.limits.hidden || numLayers > Self.limits.layers
            || intermediateSize > Self.limits.intermediate || maxPositions > Self.limits.positions || typeVocabSize > Self.limits.types
        {
            let l = Self.limits
            return "model sizes beyond what sift supports (vocab \(vocabSize) ≤ \(l.vocab), hidden \(hiddenSize) ≤ "
                + "\(l.hidden), layers \(numLayers) ≤ \(l.layers), intermediate \(intermediateSize) ≤ "
                + "\(l.intermediate), positions \(maxPositions) ≤ \(l.positions), token types \(typeVocabSize) ≤ \(l.types))"
        }
        if hiddenSize % numHeads != 0 { return "hidden size \(hiddenSize) is not divisible by \(numHeads) heads" }
        if maxPositions <= 0 || typeVocabSize <= 0 { return "max positions and type vocab size must be positive" }
        if !(0..<1).contains(hiddenDropout) || !(0..<1).contains(attentionDropout) {
            return "dropout must be in [0, 1)"
        }
        if padTokenId < 0 || padTokenId >= vocabSize { return "pad token id \(padTokenId) outside vocab" }
        return nil
    }
}
