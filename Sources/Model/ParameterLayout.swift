/// Where every parameter tensor of BERT-for-MLM lives inside one flat `Float` buffer.
///
/// Weights, gradients and both AdamW moments use this same layout, so the optimizer is one loop
/// over a flat array, a gradient bucket is a contiguous range, and a checkpoint is a straight write.
/// Tensors are laid out in forward order (embeddings, layer 0 … L-1, MLM head); backward therefore
/// finishes gradients from the end of the buffer towards the start, which is the order gradient
/// buckets are reduced in. Names are HuggingFace `BertForMaskedLM` parameter names, and matrix
/// shapes follow PyTorch's `nn.Linear` convention `[out, in]`, so HuggingFace interop is a plain
/// mapping with no transposes.
public struct ParameterLayout: Sendable {
    /// One named tensor: its HuggingFace name, shape, and element range in the flat buffer.
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        /// First element in the flat buffer.
        public let offset: Int
        /// Number of elements (product of `shape`).
        public let count: Int
        /// Whether AdamW applies weight decay (false for biases and LayerNorm parameters).
        public let decays: Bool
        /// How the tensor is initialised by `BertForMaskedLM(config:seed:)`.
        public let initialisation: Initialisation
    }

    /// Initial values of a tensor, following HuggingFace's `BertPreTrainedModel._init_weights`.
    public enum Initialisation: Sendable, Equatable {
        /// Normal(0, initializerRange).
        case normal
        case zeros
        case ones
    }

    /// Offsets of the embedding block.
    public struct EmbeddingOffsets: Sendable {
        public let wordEmbeddings: Int  // [V, H]; also the tied MLM decoder weight
        public let positionEmbeddings: Int  // [P, H]
        public let tokenTypeEmbeddings: Int  // [T, H]
        public let layerNormGamma: Int  // [H]
        public let layerNormBeta: Int  // [H]
    }

    /// Offsets of one encoder layer.
    public struct LayerOffsets: Sendable {
        public let queryWeight: Int, queryBias: Int  // [H, H], [H]
        public let keyWeight: Int, keyBias: Int  // [H, H], [H]
        public let valueWeight: Int, valueBias: Int  // [H, H], [H]
        public let attentionOutputWeight: Int, attentionOutputBias: Int  // [H, H], [H]
        public let attentionLayerNormGamma: Int, attentionLayerNormBeta: Int  // [H], [H]
        public let intermediateWeight: Int, intermediateBias: Int  // [I, H], [I]
        public let outputWeight: Int, outputBias: Int  // [H, I], [H]
        public let outputLayerNormGamma: Int, outputLayerNormBeta: Int  // [H], [H]
        /// First element of this layer in the flat buffer.
        public let start: Int
        /// One past the last element of this layer.
        public let end: Int
    }

    /// Offsets of the MLM prediction head (the decoder weight is tied to the word embeddings).
    public struct HeadOffsets: Sendable {
        public let transformWeight: Int, transformBias: Int  // [H, H], [H]
        public let layerNormGamma: Int, layerNormBeta: Int  // [H], [H]
        public let decoderBias: Int  // [V]
        public let start: Int
        public let end: Int
    }

    public let config: BertConfig
    /// All tensors in buffer order.
    public let tensors: [Tensor]
    /// Total number of parameters (elements of the flat buffer).
    public let totalCount: Int
    public let embeddings: EmbeddingOffsets
    public let layers: [LayerOffsets]
    public let head: HeadOffsets

    public init(config c: BertConfig) {
        var tensors: [Tensor] = []
        var next = 0
        func add(_ name: String, _ shape: [Int], decays: Bool, _ initialisation: Initialisation) -> Int {
            let count = shape.reduce(1, *)
            let offset = next
            tensors.append(
                Tensor(
                    name: name, shape: shape, offset: offset, count: count,
                    decays: decays, initialisation: initialisation))
            // Keep every tensor 16-float (64-byte) aligned for vector loads.
            next += (count + 15) / 16 * 16
            return offset
        }
        let H = c.hiddenSize, I = c.intermediateSize
        embeddings = EmbeddingOffsets(
            wordEmbeddings: add("bert.embeddings.word_embeddings.weight", [c.vocabSize, H], decays: true, .normal),
            positionEmbeddings: add("bert.embeddings.position_embeddings.weight", [c.maxPositions, H], decays: true, .normal),
            tokenTypeEmbeddings: add("bert.embeddings.token_type_embeddings.weight", [c.typeVocabSize, H], decays: true, .normal),
            layerNormGamma: add("bert.embeddings.LayerNorm.weight", [H], decays: false, .ones),
            layerNormBeta: add("bert.embeddings.LayerNorm.bias", [H], decays: false, .zeros))
        var layers: [LayerOffsets] = []
        for l in 0..<c.numLayers {
            let p = "bert.encoder.layer.\(l)."
            let start = next
            let qW = add(p + "attention.self.query.weight", [H, H], decays: true, .normal)
            let qB = add(p + "attention.self.query.bias", [H], decays: false, .zeros)
            let kW = add(p + "attention.self.key.weight", [H, H], decays: true, .normal)
            let kB = add(p + "attention.self.key.bias", [H], decays: false, .zeros)
            let vW = add(p + "attention.self.value.weight", [H, H], decays: true, .normal)
            let vB = add(p + "attention.self.value.bias", [H], decays: false, .zeros)
            let aoW = add(p + "attention.output.dense.weight", [H, H], decays: true, .normal)
            let aoB = add(p + "attention.output.dense.bias", [H], decays: false, .zeros)
            let aLg = add(p + "attention.output.LayerNorm.weight", [H], decays: false, .ones)
            let aLb = add(p + "attention.output.LayerNorm.bias", [H], decays: false, .zeros)
            let iW = add(p + "intermediate.dense.weight", [I, H], decays: true, .normal)
            let iB = add(p + "intermediate.dense.bias", [I], decays: false, .zeros)
            let oW = add(p + "output.dense.weight", [H, I], decays: true, .normal)
            let oB = add(p + "output.dense.bias", [H], decays: false, .zeros)
            let oLg = add(p + "output.LayerNorm.weight", [H], decays: false, .ones)
            let oLb = add(p + "output.LayerNorm.bias", [H], decays: false, .zeros)
            layers.append(
                LayerOffsets(
                    queryWeight: qW, queryBias: qB, keyWeight: kW, keyBias: kB, valueWeight: vW, valueBias: vB,
                    attentionOutputWeight: aoW, attentionOutputBias: aoB,
                    attentionLayerNormGamma: aLg, attentionLayerNormBeta: aLb,
                    intermediateWeight: iW, intermediateBias: iB, outputWeight: oW, outputBias: oB,
                    outputLayerNormGamma: oLg, outputLayerNormBeta: oLb, start: start, end: next))
        }
        self.layers = layers
        let headStart = next
        let tW = add("cls.predictions.transform.dense.weight", [H, H], decays: true, .normal)
        let tB = add("cls.predictions.transform.dense.bias", [H], decays: false, .zeros)
        let hLg = add("cls.predictions.transform.LayerNorm.weight", [H], decays: false, .ones)
        let hLb = add("cls.predictions.transform.LayerNorm.bias", [H], decays: false, .zeros)
        let dB = add("cls.predictions.bias", [c.vocabSize], decays: false, .zeros)
        head = HeadOffsets(
            transformWeight: tW, transformBias: tB, layerNormGamma: hLg, layerNormBeta: hLb,
            decoderBias: dB, start: headStart, end: next)
        self.config = c
        self.tensors = tensors
        self.totalCount = next
    }

    /// The tensor with a given HuggingFace name, or nil.
    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }
}
