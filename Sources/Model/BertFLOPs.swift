extension BertForMaskedLM {
    /// Matmul FLOPs (2·m·n·k per product) of one encoder layer's forward on `batch × seqLen` tokens.
    static func layerForwardFLOPs(config c: BertConfig, batch: Int, seqLen: Int) -> Double {
        let n = Double(batch * seqLen), H = Double(c.hiddenSize), I = Double(c.intermediateSize), T = Double(seqLen)
        let projections = 4 * 2 * n * H * H            // Q, K, V, attention output
        let attention = 2 * 2 * n * T * H              // scores and context over all heads
        let feedForward = 2 * 2 * n * H * I
        return projections + attention + feedForward
    }

    /// Matmul FLOPs of the MLM head forward on `maskedTokens` rows, its decoder over `classes` classes
    /// (nil: the vocabulary; a `ScoringVocabulary`'s K, whose per-row label dot products are not counted).
    static func headForwardFLOPs(config c: BertConfig, maskedTokens: Int, classes: Int? = nil) -> Double {
        let m = Double(maskedTokens), H = Double(c.hiddenSize), V = Double(min(classes ?? c.vocabSize, c.vocabSize))
        return 2 * m * H * H + 2 * m * H * V
    }

    /// Matmul FLOPs of one `forwardBackward` on `batch` sequences of `seqLen` tokens with
    /// `maskedTokens` masked positions in total. Every product's backward needs two products of the
    /// same size (input and weight gradients), so training is 3× the forward.
    public static func trainingFLOPs(config: BertConfig, batch: Int, seqLen: Int, maskedTokens: Int) -> Double {
        3 * (Double(config.numLayers) * layerForwardFLOPs(config: config, batch: batch, seqLen: seqLen)
             + headForwardFLOPs(config: config, maskedTokens: maskedTokens))
    }

    /// Matmul FLOPs of one `sampleLosses` with `exitLayer` layers (`maskedTokens` in total), the head's
    /// decoder over `classes` classes (nil: all).
    public static func scoringFLOPs(config: BertConfig, exitLayer: Int, batch: Int, seqLen: Int,
                                    maskedTokens: Int, classes: Int? = nil) -> Double {
        Double(exitLayer) * layerForwardFLOPs(config: config, batch: batch, seqLen: seqLen)
            + headForwardFLOPs(config: config, maskedTokens: maskedTokens, classes: classes)
    }
}
