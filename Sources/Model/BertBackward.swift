import Kernels

extension BertForMaskedLM {
    /// Backward of the head from `head.logits` (holding dlogits): parameter gradients, then the
    /// gradient w.r.t. the gathered rows in `head.gradGathered [M, H]`, and with `dHidden` w.r.t. the
    /// last hidden state written (=) into `dHidden [B*T, H]` (zero at unmasked rows).
    func headBackward(rows m: Int, into dHidden: UnsafeMutablePointer<Float>?, batch B: Int, seqLen T: Int) {
        let H = config.hiddenSize, V = config.vocabSize, o = layout.head
        Linear.backward(
            dy: head.logits, x: head.normed, weight: w(layout.embeddings.wordEmbeddings),
            dx: head.gradNormed, accumulateInput: false, dWeight: g(layout.embeddings.wordEmbeddings),
            dBias: g(o.decoderBias), rows: m, inFeatures: H, outFeatures: V)
        LayerNorm.backward(
            x: head.transformAct, dy: head.gradNormed, gamma: w(o.layerNormGamma), mean: head.mean,
            rstd: head.rstd, dx: head.gradAct, accumulateInput: false, dGamma: g(o.layerNormGamma),
            dBeta: g(o.layerNormBeta), rows: m, width: H)
        GELU.backward(x: head.transformPre, dy: head.gradAct, dx: head.gradAct, count: m * H)
        Linear.backward(
            dy: head.gradAct, x: head.gathered, weight: w(o.transformWeight), dx: head.gradGathered,
            accumulateInput: false, dWeight: g(o.transformWeight), dBias: g(o.transformBias),
            rows: m, inFeatures: H, outFeatures: H)
        guard let dHidden else { return }
        dHidden.update(repeating: 0, count: B * T * H)
        Embedding.scatterAdd(dOut: head.gradGathered, ids: head.rows, rows: m, width: H, dTable: dHidden)
    }

    /// Backward of `layerForward`: accumulates parameter gradients and writes (=) `dInput` from `dOutput`.
    /// `progress(Int.max)` is called after each matrix product (see `forwardBackward`'s `onGradientsReady`).
    func layerBackward(
        _ l: Int, _ ws: Workspace, input x: UnsafeMutablePointer<Float>,
        dOutput: UnsafeMutablePointer<Float>, dInput: UnsafeMutablePointer<Float>,
        batch B: Int, seqLen T: Int, dropoutKeys: UnsafePointer<UInt64>?, progress: ((Int) -> Void)? = nil
    ) {
        let H = config.hiddenSize, N = B * T, o = layout.layers[l], a = ws.layers[l]
        // dInput = d(attentionSum), which is also the residual part of d(x).
        projectionAndFeedForwardBackward(
            l, ws, rows: N, dOutput: dOutput, dResidual: dInput, queries: nil, batch: B,
            seqLen: T, dropoutKeys: dropoutKeys, progress: progress)
        let shape = Attention.Shape(batch: B, seqLen: T, hidden: H, heads: config.numHeads)
        Attention.backward(
            dContext: ws.gradContext, q: a.q, k: a.k, v: a.v, probs: a.probs,
            droppedProbs: a.droppedProbs, dropout: attentionDropoutKeys(l, batch: B, keys: dropoutKeys),
            shape: shape, dq: ws.gradQ, dk: ws.gradK, dv: ws.gradV, scratch: ws.attentionScratch)
        progress?(Int.max)
        Linear.backward(
            dy: ws.gradQ, x: x, weight: w(o.queryWeight), dx: dInput, accumulateInput: true,
            dWeight: g(o.queryWeight), dBias: g(o.queryBias), rows: N, inFeatures: H, outFeatures: H)
        progress?(Int.max)
        keyValueBackward(l, ws, input: x, dInput: dInput, rows: N, progress: progress)
    }

    /// Backward of `sparseLayerForward` from the compact `dOutput [m, H]` (row i at position `head.rows[i]`):
    /// accumulates parameter gradients and writes (=) the full `dInput [B*T, H]`, whose unmasked rows get
    /// the keys' and values' part only. Adds up each element in `layerBackward`'s order (residual, query,
    /// key, value), the terms that are zero there left out. `progress` as in `layerBackward`.
    func sparseLayerBackward(
        _ l: Int, _ ws: Workspace, input x: UnsafeMutablePointer<Float>, rows m: Int,
        dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, batch B: Int, seqLen T: Int,
        dropoutKeys: UnsafePointer<UInt64>?, progress: ((Int) -> Void)? = nil
    ) {
        let H = config.hiddenSize, N = B * T, o = layout.layers[l], a = ws.layers[l]
        // d(attentionSum) at the m rows, in place of d(attentionNormed) (LayerNorm.backward may alias them).
        let dResidual = ws.gradSum!
        let queries = Attention.QueryRows(rows: head.rows, rowStart: ws.queryRowStart)
        projectionAndFeedForwardBackward(
            l, ws, rows: m, dOutput: dOutput, dResidual: dResidual, queries: queries,
            batch: B, seqLen: T, dropoutKeys: dropoutKeys, progress: progress)
        let shape = Attention.Shape(batch: B, seqLen: T, hidden: H, heads: config.numHeads)
        Attention.backward(
            dContext: ws.gradContext, q: a.q, k: a.k, v: a.v, probs: a.probs, droppedProbs: a.droppedProbs,
            dropout: attentionDropoutKeys(l, batch: B, keys: dropoutKeys), shape: shape, queries: queries,
            dq: ws.gradQ, dk: ws.gradK, dv: ws.gradV, scratch: ws.attentionScratch)
        progress?(Int.max)
        Linear.backward(
            dy: ws.gradQ, x: ws.gatheredInput, weight: w(o.queryWeight), dx: dResidual, accumulateInput: true,
            dWeight: g(o.queryWeight), dBias: g(o.queryBias), rows: m, inFeatures: H, outFeatures: H)
        progress?(Int.max)
        // Scattered into zeros (each row once), then the keys' and values' parts added as in the dense order.
        dInput.update(repeating: 0, count: N * H)
        Embedding.scatterAdd(dOut: dResidual, ids: head.rows, rows: m, width: H, dTable: dInput)
        keyValueBackward(l, ws, input: x, dInput: dInput, rows: N, progress: progress)
    }

    /// Backward of `projectionAndFeedForward` on `R` rows from `dOutput`: parameter gradients, d(attentionSum)
    /// written (=) into `dResidual` (which may be `ws.gradSum`) and d(context) into `ws.gradContext`.
    func projectionAndFeedForwardBackward(
        _ l: Int, _ ws: Workspace, rows R: Int, dOutput: UnsafePointer<Float>,
        dResidual: UnsafeMutablePointer<Float>, queries: Attention.QueryRows?,
        batch B: Int, seqLen T: Int, dropoutKeys: UnsafePointer<UInt64>?,
        progress: ((Int) -> Void)?
    ) {
        let H = config.hiddenSize, I = config.intermediateSize, o = layout.layers[l], a = ws.layers[l]
        let dSum = ws.gradSum!, dTmp = ws.gradTmp!
        // Output LayerNorm: dSum = d(outputSum).
        LayerNorm.backward(
            x: a.outputSum, dy: dOutput, gamma: w(o.outputLayerNormGamma), mean: a.outputMean,
            rstd: a.outputRstd, dx: dSum, accumulateInput: false, dGamma: g(o.outputLayerNormGamma),
            dBeta: g(o.outputLayerNormBeta), rows: R, width: H)
        // FFN branch (through its dropout); the residual branch keeps dSum as d(attentionNormed).
        var dDense = UnsafeMutablePointer(dSum)
        if let dropoutKeys, config.hiddenDropout > 0 {
            hiddenDropout(
                from: dSum, into: dTmp, site: DropoutSite.ffnOutput(l), queries: queries, batch: B, seqLen: T,
                keys: dropoutKeys)
            dDense = dTmp
        }
        Linear.backward(
            dy: dDense, x: a.intermediateAct, weight: w(o.outputWeight), dx: ws.gradIntermediate,
            accumulateInput: false, dWeight: g(o.outputWeight), dBias: g(o.outputBias),
            rows: R, inFeatures: I, outFeatures: H)
        progress?(Int.max)
        GELU.backward(x: a.intermediatePre, dy: ws.gradIntermediate, dx: ws.gradIntermediate, count: R * I)
        Linear.backward(
            dy: ws.gradIntermediate, x: a.attentionNormed, weight: w(o.intermediateWeight), dx: dSum,
            accumulateInput: true, dWeight: g(o.intermediateWeight), dBias: g(o.intermediateBias),
            rows: R, inFeatures: H, outFeatures: I)
        progress?(Int.max)
        LayerNorm.backward(
            x: a.attentionSum, dy: dSum, gamma: w(o.attentionLayerNormGamma), mean: a.attentionMean,
            rstd: a.attentionRstd, dx: dResidual, accumulateInput: false,
            dGamma: g(o.attentionLayerNormGamma), dBeta: g(o.attentionLayerNormBeta), rows: R, width: H)
        var dAttnOut = UnsafeMutablePointer(dResidual)
        if let dropoutKeys, config.hiddenDropout > 0 {
            hiddenDropout(
                from: dResidual, into: dTmp, site: DropoutSite.attentionOutput(l), queries: queries, batch: B, seqLen: T,
                keys: dropoutKeys)
            dAttnOut = dTmp
        }
        Linear.backward(
            dy: dAttnOut, x: a.context, weight: w(o.attentionOutputWeight), dx: ws.gradContext,
            accumulateInput: false, dWeight: g(o.attentionOutputWeight), dBias: g(o.attentionOutputBias),
            rows: R, inFeatures: H, outFeatures: H)
        progress?(Int.max)
    }

    /// The keys' and values' products' backward over all `rows` (`ws.gradK`, `ws.gradV` → parameter
    /// gradients, `dInput +=`).
    func keyValueBackward(
        _ l: Int, _ ws: Workspace, input x: UnsafeMutablePointer<Float>, dInput: UnsafeMutablePointer<Float>,
        rows N: Int, progress: ((Int) -> Void)?
    ) {
        let H = config.hiddenSize, o = layout.layers[l]
        Linear.backward(
            dy: ws.gradK, x: x, weight: w(o.keyWeight), dx: dInput, accumulateInput: true,
            dWeight: g(o.keyWeight), dBias: g(o.keyBias), rows: N, inFeatures: H, outFeatures: H)
        progress?(Int.max)
        Linear.backward(
            dy: ws.gradV, x: x, weight: w(o.valueWeight), dx: dInput, accumulateInput: true,
            dWeight: g(o.valueWeight), dBias: g(o.valueBias), rows: N, inFeatures: H, outFeatures: H)
        progress?(Int.max)
    }

    /// Backward of `embeddingsForward` from `dHidden` (overwritten).
    func embeddingsBackward(
        _ ws: Workspace, dHidden: UnsafeMutablePointer<Float>, ids: UnsafePointer<Int32>,
        types: UnsafePointer<Int32>, batch B: Int, seqLen T: Int, dropoutKeys: UnsafePointer<UInt64>?
    ) {
        let H = config.hiddenSize, N = B * T, e = layout.embeddings
        if let dropoutKeys {
            hiddenDropout(dHidden, site: DropoutSite.embeddings, batch: B, seqLen: T, keys: dropoutKeys)
        }
        let dSum = ws.gradSum!
        LayerNorm.backward(
            x: ws.embeddingSum, dy: dHidden, gamma: w(e.layerNormGamma), mean: ws.embeddingMean,
            rstd: ws.embeddingRstd, dx: dSum, accumulateInput: false, dGamma: g(e.layerNormGamma),
            dBeta: g(e.layerNormBeta), rows: N, width: H)
        Embedding.scatterAdd(dOut: dSum, ids: ids, rows: N, width: H, dTable: g(e.wordEmbeddings))
        Embedding.scatterAdd(dOut: dSum, ids: types, rows: N, width: H, dTable: g(e.tokenTypeEmbeddings))
        let dPosition = g(e.positionEmbeddings), slab = T * H
        // Threads split the positions; each element still adds the samples in order.
        Parallel.forRanges(slab, minimumPerWorker: 1 << 14) { range in
            for b in 0..<B {
                let src = dSum + b * slab
                for i in range { dPosition[i] += src[i] }
            }
        }
    }
}
