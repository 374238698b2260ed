import Kernels

/// Dropout site numbers (part of the dropout key): 0 = embeddings, then per layer l
/// 1 + 3l = attention probabilities, 2 + 3l = attention output, 3 + 3l = FFN output.
enum DropoutSite {
    static let embeddings = 0
    static func attentionProbs(_ l: Int) -> Int { 1 + 3 * l }
    static func attentionOutput(_ l: Int) -> Int { 2 + 3 * l }
    static func ffnOutput(_ l: Int) -> Int { 3 + 3 * l }
}

extension BertForMaskedLM {
    @inline(__always) func w(_ offset: Int) -> UnsafeMutablePointer<Float> { parameters.pointer + offset }
    @inline(__always) func g(_ offset: Int) -> UnsafeMutablePointer<Float> { gradients.pointer + offset }

    /// Applies hidden dropout in place: per sample slab of `T*H` floats, or with `queries` to the compact
    /// query rows `[M, H]`, where row i (position t of sample b) draws the slab's element indices
    /// `t·H ..< (t+1)·H` with sample b's key — the dense path's mask at that position.
    func hiddenDropout(
        _ x: UnsafeMutablePointer<Float>, site: Int, queries: Attention.QueryRows? = nil, batch B: Int,
        seqLen T: Int, keys: UnsafePointer<UInt64>
    ) {
        hiddenDropout(from: x, into: x, site: site, queries: queries, batch: B, seqLen: T, keys: keys)
    }

    /// `hiddenDropout` reading `source` and writing `x` (one pass where a copy and the dropout make two);
    /// they may alias. Without dropout (`p` 0) nothing is written.
    func hiddenDropout(
        from source: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, site: Int,
        queries: Attention.QueryRows? = nil, batch B: Int, seqLen T: Int, keys: UnsafePointer<UInt64>
    ) {
        let p = config.hiddenDropout, H = config.hiddenSize, slab = T * H
        if p == 0 { return }
        for b in 0..<B {
            let key = keys[site * B + b]
            guard let queries else {
                Dropout.forward(x: source + b * slab, y: x + b * slab, count: slab, probability: p, key: key)
                continue
            }
            for i in Int(queries.rowStart[b])..<Int(queries.rowStart[b + 1]) {
                let t = Int(queries.rows[i]) - b * T
                Dropout.forward(x: source + i * H, y: x + i * H, count: H, probability: p, key: key, firstIndex: t * H)
            }
        }
    }

    /// `hidden[0] = dropout(LayerNorm(word[id] + position[t] + tokenType[tt]))`.
    func embeddingsForward(
        _ ws: Workspace, ids: UnsafePointer<Int32>, types: UnsafePointer<Int32>,
        batch B: Int, seqLen T: Int, dropoutKeys: UnsafePointer<UInt64>?
    ) {
        let H = config.hiddenSize, N = B * T, e = layout.embeddings
        Embedding.gather(table: w(e.wordEmbeddings), ids: ids, rows: N, width: H, out: ws.embeddingSum, accumulate: false)
        Embedding.gather(
            table: w(e.tokenTypeEmbeddings), ids: types, rows: N, width: H, out: ws.embeddingSum,
            accumulate: true)
        Vector.addToEachRow(w(e.positionEmbeddings), into: ws.embeddingSum, rows: B, n: T * H)
        LayerNorm.forward(
            x: ws.embeddingSum, gamma: w(e.layerNormGamma), beta: w(e.layerNormBeta), y: ws.hidden[0],
            mean: ws.embeddingMean, rstd: ws.embeddingRstd, rows: N, width: H, eps: config.layerNormEps)
        if let dropoutKeys {
            hiddenDropout(ws.hidden[0], site: DropoutSite.embeddings, batch: B, seqLen: T, keys: dropoutKeys)
        }
    }

    /// One post-LN encoder layer: `output = LN(h1 + drop(FFN(h1)))`, `h1 = LN(x + drop(Attn(x)))`.
    /// `input` and `output` must differ.
    func layerForward(
        _ l: Int, _ ws: Workspace, cache a: LayerActivations, input x: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>, batch B: Int, seqLen T: Int,
        dropoutKeys: UnsafePointer<UInt64>?
    ) {
        let H = config.hiddenSize, N = B * T, o = layout.layers[l]
        Linear.forward(x: x, weight: w(o.queryWeight), bias: w(o.queryBias), y: a.q, rows: N, inFeatures: H, outFeatures: H)
        Linear.forward(x: x, weight: w(o.keyWeight), bias: w(o.keyBias), y: a.k, rows: N, inFeatures: H, outFeatures: H)
        Linear.forward(x: x, weight: w(o.valueWeight), bias: w(o.valueBias), y: a.v, rows: N, inFeatures: H, outFeatures: H)
        let shape = Attention.Shape(batch: B, seqLen: T, hidden: H, heads: config.numHeads)
        let attentionDropout = attentionDropoutKeys(l, batch: B, keys: dropoutKeys)
        Attention.forward(
            q: a.q, k: a.k, v: a.v, keyBias: ws.keyBias, shape: shape, probs: a.probs,
            droppedProbs: a.droppedProbs, dropout: attentionDropout, context: a.context)
        projectionAndFeedForward(
            l, a, residual: x, rows: N, output: output, queries: nil, batch: B, seqLen: T,
            dropoutKeys: dropoutKeys)
    }

    /// The part of a layer after the attention core, on `R` rows (all N, or the compact query rows):
    /// `output = LN(h1 + drop(FFN(h1)))`, `h1 = LN(residual + drop(dense(a.context)))`.
    func projectionAndFeedForward(
        _ l: Int, _ a: LayerActivations, residual x: UnsafePointer<Float>, rows R: Int,
        output: UnsafeMutablePointer<Float>, queries: Attention.QueryRows?, batch B: Int,
        seqLen T: Int, dropoutKeys: UnsafePointer<UInt64>?
    ) {
        let H = config.hiddenSize, I = config.intermediateSize, o = layout.layers[l]
        Linear.forward(
            x: a.context, weight: w(o.attentionOutputWeight), bias: w(o.attentionOutputBias),
            y: a.attentionSum, rows: R, inFeatures: H, outFeatures: H)
        if let dropoutKeys {
            hiddenDropout(
                a.attentionSum, site: DropoutSite.attentionOutput(l), queries: queries, batch: B, seqLen: T,
                keys: dropoutKeys)
        }
        Vector.add(x, into: a.attentionSum, count: R * H)
        LayerNorm.forward(
            x: a.attentionSum, gamma: w(o.attentionLayerNormGamma), beta: w(o.attentionLayerNormBeta),
            y: a.attentionNormed, mean: a.attentionMean, rstd: a.attentionRstd, rows: R, width: H,
            eps: config.layerNormEps)
        Linear.forward(
            x: a.attentionNormed, weight: w(o.intermediateWeight), bias: w(o.intermediateBias),
            y: a.intermediatePre, rows: R, inFeatures: H, outFeatures: I)
        GELU.forward(x: a.intermediatePre, y: a.intermediateAct, count: R * I)
        Linear.forward(
            x: a.intermediateAct, weight: w(o.outputWeight), bias: w(o.outputBias), y: a.outputSum,
            rows: R, inFeatures: I, outFeatures: H)
        if let dropoutKeys {
            hiddenDropout(a.outputSum, site: DropoutSite.ffnOutput(l), queries: queries, batch: B, seqLen: T, keys: dropoutKeys)
        }
        Vector.add(a.attentionNormed, into: a.outputSum, count: R * H)
        LayerNorm.forward(
            x: a.outputSum, gamma: w(o.outputLayerNormGamma), beta: w(o.outputLayerNormBeta), y: output,
            mean: a.outputMean, rstd: a.outputRstd, rows: R, width: H, eps: config.layerNormEps)
    }

    /// `layerForward` with the output read at the masked rows `head.rows[0..<m]` only (from
    /// `collectMaskedRows`): keys and values at every position, the queries, attention, output projection,
    /// LayerNorms and feed-forward at those rows, written compactly — `output [m, H]` row i is position
    /// `head.rows[i]`. Every row equals `layerForward`'s at that position, its dropout draws included
    /// (the same element indices); the cache holds the compact rows (see `LayerActivations`).
    func sparseLayerForward(
        _ l: Int, _ ws: Workspace, cache a: LayerActivations, input x: UnsafeMutablePointer<Float>,
        rows m: Int, output: UnsafeMutablePointer<Float>, batch B: Int, seqLen T: Int,
        dropoutKeys: UnsafePointer<UInt64>?
    ) {
        let H = config.hiddenSize, N = B * T, o = layout.layers[l]
        let queries = queryRows(ws, rows: m, batch: B, seqLen: T), xg = ws.gatheredInput!
        Embedding.gatherRows(x, rowIndices: head.rows, rows: m, width: H, out: xg)
        Linear.forward(x: xg, weight: w(o.queryWeight), bias: w(o.queryBias), y: a.q, rows: m, inFeatures: H, outFeatures: H)
        Linear.forward(x: x, weight: w(o.keyWeight), bias: w(o.keyBias), y: a.k, rows: N, inFeatures: H, outFeatures: H)
        Linear.forward(x: x, weight: w(o.valueWeight), bias: w(o.valueBias), y: a.v, rows: N, inFeatures: H, outFeatures: H)
        let shape = Attention.Shape(batch: B, seqLen: T, hidden: H, heads: config.numHeads)
        Attention.forward(
            q: a.q, k: a.k, v: a.v, keyBias: ws.keyBias, shape: shape, queries: queries, probs: a.probs,
            droppedProbs: a.droppedProbs, dropout: attentionDropoutKeys(l, batch: B, keys: dropoutKeys),
            context: a.context)
        projectionAndFeedForward(
            l, a, residual: xg, rows: m, output: output, queries: queries, batch: B, seqLen: T,
            dropoutKeys: dropoutKeys)
    }

    /// `head.rows[0..<m]` (ascending flat positions) as `Attention.QueryRows`, with each sample's first
    /// row filled into `ws.queryRowStart`.
    func queryRows(_ ws: Workspace, rows m: Int, batch B: Int, seqLen T: Int) -> Attention.QueryRows {
        var r = 0
        for b in 0...B {
            while r < m && Int(head.rows[r]) < b * T { r += 1 }
            ws.queryRowStart[b] = Int32(r)
        }
        return Attention.QueryRows(rows: head.rows, rowStart: ws.queryRowStart)
    }

    func attentionDropoutKeys(_ l: Int, batch B: Int, keys: UnsafePointer<UInt64>?) -> Attention.DropoutKeys? {
        guard let keys, config.attentionDropout > 0 else { return nil }
        return Attention.DropoutKeys(
            probability: config.attentionDropout,
            keys: keys + DropoutSite.attentionProbs(l) * B)
    }

    /// Copies the rows with a label (in position order) from `hidden` into the head workspace, with
    /// their labels and positions relative to `firstSample`. Returns M.
    func gatherMaskedRows(_ batch: MLMBatch, firstSample: Int, count: Int, from hiddenStates: UnsafePointer<Float>) -> Int {
        let m = collectMaskedRows(batch, firstSample: firstSample, count: count)
        Embedding.gatherRows(hiddenStates, rowIndices: head.rows, rows: m, width: config.hiddenSize, out: head.gathered)
        return m
    }

    /// The rows with a label (in position order) of samples `firstSample ..< firstSample + count`: their
    /// flat positions relative to `firstSample` into `head.rows` and labels into `head.labels`, with the
    /// head workspace sized for them. Returns M.
    func collectMaskedRows(_ batch: MLMBatch, firstSample: Int, count: Int) -> Int {
        let T = batch.seqLen
        var m = 0
        batch.labels.withUnsafeBufferPointer { labels in
            let base = firstSample * T
            for i in 0..<count * T where labels[base + i] != MLMBatch.ignoredLabel { m += 1 }
            head.reserve(max(m, 1))
            var r = 0
            for i in 0..<count * T where labels[base + i] != MLMBatch.ignoredLabel {
                head.rows[r] = Int32(i)
                head.labels[r] = labels[base + i]
                r += 1
            }
        }
        return m
    }

    /// MLM head on the M gathered rows: transform dense, GELU, LayerNorm, tied decoder → `head.logits [M, V]`.
    func headForward(rows m: Int) {
        let H = config.hiddenSize, V = config.vocabSize
        headTransform(rows: m)
        Linear.forward(
            x: head.normed, weight: w(layout.embeddings.wordEmbeddings), bias: w(layout.head.decoderBias),
            y: head.logits, rows: m, inFeatures: H, outFeatures: V)
    }

    /// The head's transform (dense, GELU, LayerNorm) of the M gathered rows → `head.normed [M, H]`.
    func headTransform(rows m: Int) {
        let H = config.hiddenSize, o = layout.head
        Linear.forward(
            x: head.gathered, weight: w(o.transformWeight), bias: w(o.transformBias), y: head.transformPre,
            rows: m, inFeatures: H, outFeatures: H)
        GELU.forward(x: head.transformPre, y: head.transformAct, count: m * H)
        LayerNorm.forward(
            x: head.transformAct, gamma: w(o.layerNormGamma), beta: w(o.layerNormBeta), y: head.normed,
            mean: head.mean, rstd: head.rstd, rows: m, width: H, eps: config.layerNormEps)
    }

    /// The scoring head's losses of the M gathered rows into `head.losses`/`head.correct`: the full head
    /// (`runHead`) without a vocabulary or with one as large as V; otherwise the decoder over the
    /// vocabulary's K classes (gathered by `gatherSubsetDecoder` since the weights last changed) and
    /// each row's label (`CrossEntropy.subsetLosses`).
    func runScoringHead(rows m: Int, decoder: SubsetDecoder?) {
        guard let decoder else {
            runHead(rows: m, lossWeight: nil)
            return
        }
        let H = config.hiddenSize, K = decoder.vocabulary.count
        let embeddings = w(layout.embeddings.wordEmbeddings), decoderBias = w(layout.head.decoderBias)
        headTransform(rows: m)
        Linear.forward(
            x: head.normed, weight: decoder.weights.pointer, bias: decoder.bias.pointer, y: head.logits,
            rows: m, inFeatures: H, outFeatures: K)
        decoder.reserve(m)
        decoder.vocabulary.columns.withUnsafeBufferPointer { columns in
            for r in 0..<m {
                let label = Int(head.labels[r]), column = columns[label]
                decoder.labelColumns[r] = column
                decoder.labelLogits.pointer[r] =
                    column >= 0
                    ? head.logits[r * K + Int(column)]
                    : Lanes.dot(head.normed + r * H, embeddings + label * H, count: H) + decoderBias[label]
            }
        }
        CrossEntropy.subsetLosses(
            logits: head.logits, classes: K, labelLogits: decoder.labelLogits.pointer,
            labelColumns: decoder.labelColumns, rows: m, losses: head.losses, correct: head.correct)
    }

    /// The decoder rows and biases of `vocabulary` copied from the current weights (nil when the
    /// vocabulary is nil or covers all V classes). Allocates only when the vocabulary changes.
    func gatherSubsetDecoder(_ vocabulary: ScoringVocabulary?) -> SubsetDecoder? {
        guard let vocabulary, vocabulary.count < config.vocabSize else { return nil }
        let H = config.hiddenSize
        if subsetDecoder?.vocabulary != vocabulary { subsetDecoder = SubsetDecoder(vocabulary, hidden: H) }
        let decoder = subsetDecoder!
        let embeddings = w(layout.embeddings.wordEmbeddings), decoderBias = w(layout.head.decoderBias)
        for (c, id) in vocabulary.ids.enumerated() {
            (decoder.weights.pointer + c * H).update(from: embeddings + Int(id) * H, count: H)
            decoder.bias.pointer[c] = decoderBias[Int(id)]
        }
        return decoder
    }

    /// Head forward plus cross-entropy; with `lossWeight` the logits are replaced by their gradient.
    func runHead(rows m: Int, lossWeight: Float?) {
        headForward(rows: m)
        CrossEntropy.forwardBackward(
            logits: head.logits, labels: head.labels, rows: m, classes: config.vocabSize,
            losses: head.losses, correct: head.correct, gradientScale: lossWeight)
    }
}
