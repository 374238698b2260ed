extension BertForMaskedLM {
    /// Matmul FLOPs (2·m·n·k per product) of one encoder layer's forward on `batch × seqLen` tokens; with
    /// `queryRows` that layer as `sparseLayerForward` runs it — keys and values at every position, the
    /// rest (queries, attention, output projection, feed-forward) at `queryRows` rows only.
    static func layerForwardFLOPs(config c: BertConfig, batch: Int, seqLen: Int, queryRows: Int? = nil) -> Double {
        let n = Double(batch * seqLen), q = Double(queryRows ?? batch * seqLen)
        let H = Double(c.hiddenSize), I = Double(c.intermediateSize), T = Double(seqLen)
        let projections = 2 * 2 * n * H * H + 2 * 2 * q * H * H  // K, V at every row; Q, attention output
        let attention = 2 * 2 * q * T * H  // scores and context over all heads
        let feedForward = 2 * 2 * q * H * I
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
    ///
    /// `executed: false` counts the dense-equivalent work (every layer at every position, the usual
    /// basis of model FLOPs); `true` what the default engine executes, the last layer at the masked
    /// positions only (`denseLastLayer` off).
    public static func trainingFLOPs(
        config: BertConfig, batch: Int, seqLen: Int, maskedTokens: Int,
        executed: Bool = false
    ) -> Double {
        let L = Double(config.numLayers), layer = layerForwardFLOPs(config: config, batch: batch, seqLen: seqLen)
        let last = executed ? layerForwardFLOPs(config: config, batch: batch, seqLen: seqLen, queryRows: maskedTokens) : layer
        return 3 * ((L - 1) * layer + last + headForwardFLOPs(config: config, maskedTokens: maskedTokens))
    }

    /// Matmul FLOPs of one `sampleLosses` with `exitLayer` layers (`maskedTokens` in total), the head's
    /// decoder over `classes` classes (nil: all). `executed` as in `trainingFLOPs`: the exit layer at
    /// the masked positions only (as `sampleLosses` runs it; the kept prefix of `scoreKeepingPrefix`
    /// feeds training and is dense).
    public static func scoringFLOPs(
        config: BertConfig, exitLayer: Int, batch: Int, seqLen: Int,
        maskedTokens: Int, classes: Int? = nil, executed: Bool = false
    ) -> Double {
        let layer = layerForwardFLOPs(config: config, batch: batch, seqLen: seqLen)
        let exit = executed ? layerForwardFLOPs(config: config, batch: batch, seqLen: seqLen, queryRows: maskedTokens) : layer
        return Double(exitLayer - 1) * layer + exit
            + headForwardFLOPs(config: config, maskedTokens: maskedTokens, classes: classes)
    }
}
