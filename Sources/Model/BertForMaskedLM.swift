import Core
import Kernels

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// HuggingFace `BertForMaskedLM` (post-LN BERT encoder + MLM head with decoder tied to the word
/// embeddings), with a hand-written backward pass over one flat parameter buffer.
///
/// Not thread-safe: each instance owns its activation workspaces; use one model per thread.
public final class BertForMaskedLM {
    public let config: BertConfig
    public let layout: ParameterLayout
    /// Weights, `layout.totalCount` floats in `layout` order.
    public let parameters: FloatBuffer
    /// Gradients in the same layout. `forwardBackward` accumulates into it; the caller zeroes it.
    public let gradients: FloatBuffer

    let training: Workspace
    let scoring: Workspace
    let head: HeadWorkspace
    private var prefixes: [ActivationPrefix] = []
    /// The scoring head's gathered decoder rows (`ScoringVocabulary`), allocated on first use.
    var subsetDecoder: SubsetDecoder?
    /// Samples per chunk in `sampleLosses`/`maskedLogits`, bounding scoring memory.
    public var scoringChunk = 32
    /// Runs the layer whose output only the head reads — the last layer in `forwardBackward`, the exit
    /// layer in `sampleLosses`/`maskedLogits` — at every position, as the other layers. Off by default:
    /// that layer then computes keys and values at every position and the rest at the masked positions
    /// only (`sparseLayerForward`), the same function of the weights with about 85% fewer products in it.
    /// For comparisons (tests, `sift bench`, `sift train --dense-last-layer`).
    public var denseLastLayer = false

    /// A freshly initialised model as HuggingFace's `_init_weights`: Normal(0, initializerRange)
    /// matrices and embeddings, zero biases, LayerNorm gamma 1 / beta 0, pad row of the word
    /// embeddings zero (`ParameterLayout.initialise`, keyed by each tensor's index).
    public convenience init(config: BertConfig, seed: UInt64) {
        let layout = ParameterLayout(config: config)
        let p = FloatBuffer(count: layout.totalCount)
        for (t, tensor) in layout.tensors.enumerated() {
            ParameterLayout.initialise(tensor, in: p.pointer, std: config.initializerRange, seed: seed, keyedBy: .index(t))
        }
        (p.pointer + layout.embeddings.wordEmbeddings + config.padTokenId * config.hiddenSize)
            .update(repeating: 0, count: config.hiddenSize)
        self.init(config: config, parameters: p)
    }

    /// A model using `parameters` (laid out as `ParameterLayout(config:)`) as its weights, not copied.
    public init(config: BertConfig, parameters: FloatBuffer) {
        let layout = ParameterLayout(config: config)
        precondition(
            parameters.count == layout.totalCount,
            "parameter buffer has \(parameters.count) floats, layout needs \(layout.totalCount)")
        precondition(config.validationError() == nil, config.validationError() ?? "")
        self.config = config
        self.layout = layout
        self.parameters = parameters
        self.gradients = FloatBuffer(count: layout.totalCount)
        training = Workspace(
            config: config, cachedLayers: config.numLayers, hiddenSlots: config.numLayers + 1,
            withBackward: true, withDroppedProbs: config.attentionDropout > 0, withQueryRows: true)
        scoring = Workspace(
            config: config, cachedLayers: 1, hiddenSlots: 2, withBackward: false, withDroppedProbs: false,
            withQueryRows: true)
        head = HeadWorkspace(config: config)
    }

    // MARK: Public API

    /// This model's `ActivationPrefix` of `depth` layers, created on first use and kept with the model
    /// (like its other workspaces), so that its storage is allocated once however many trainers use it.
    public func activationPrefix(depth: Int) -> ActivationPrefix {
        if let p = prefixes.first(where: { $0.depth == depth }) { return p }
        let p = ActivationPrefix(config: config, depth: depth)
        prefixes.append(p)
        return p
    }

    /// Early-exit approximate losses: embeddings + layers 1...exitLayer (1-based; `exitLayer ==
    /// numLayers` gives the exact loss), then the shared MLM head on that layer's output. No dropout,
    /// no activation cache (one layer's activations, processed `scoringChunk` samples at a time).
    /// One `SampleLoss` per sample. The batch must satisfy `validationError(for:) == nil`.
    /// With a `vocabulary` the head scores only its classes and each label (`ScoringVocabulary`).
    public func sampleLosses(_ batch: MLMBatch, exitLayer: Int, vocabulary: ScoringVocabulary? = nil) -> [SampleLoss] {
        var results = [SampleLoss](repeating: SampleLoss(), count: batch.count)
        let decoder = gatherSubsetDecoder(vocabulary)
        score(batch, exitLayer: exitLayer) { first, m in
            self.runScoringHead(rows: m, decoder: decoder)
            self.accumulate(into: &results, firstSample: first, seqLen: batch.seqLen, rows: m)
        }
        return results
    }

    /// Per-sample mean loss of `sampleLosses` (nats per masked token; 0 for a sample without masks).
    public func approximateLosses(_ batch: MLMBatch, exitLayer: Int, vocabulary: ScoringVocabulary? = nil) -> [Float] {
        sampleLosses(batch, exitLayer: exitLayer, vocabulary: vocabulary).map(\.meanLoss)
    }

    /// MLM logits at the masked positions (labels != -100) after `exitLayer` layers, in row-major
    /// position order: flat positions `b*T + t` and logits `[M, V]`. For cross-checking against HuggingFace.
    public func maskedLogits(_ batch: MLMBatch, exitLayer: Int) -> (positions: [Int], logits: [Float]) {
        var positions: [Int] = [], logits: [Float] = []
        score(batch, exitLayer: exitLayer) { first, m in
            self.headForward(rows: m)
            for r in 0..<m { positions.append(first * batch.seqLen + Int(self.head.rows[r])) }
            logits.append(contentsOf: UnsafeBufferPointer(start: self.head.logits, count: m * self.config.vocabSize))
        }
        return (positions, logits)
    }

    /// Full forward with activation cache and hand-written backward.
    ///
    /// Accumulates (+=) `lossWeight · ∂(Σ over all masked tokens of CE)/∂θ` into `gradients` (the
    /// caller zeroes). `dropoutSeed == nil` disables dropout; otherwise every dropout mask element is a
    /// counter-based hash of (dropoutSeed, batch.sampleIndices[b], site, element index within the
    /// sample), so a sample gets the same masks whichever rank or batch slot processes it.
    ///
    /// `onGradientsReady(offset)` is called when every gradient at flat offsets >= `offset` is final
    /// for this call: after the head (`layout.head.start`), after each layer going down
    /// (`layout.layers[l].start`), and last with 0 after the embeddings (tied word embeddings finish last).
    /// Between the operations of a layer's backward it is called with `Int.max` (nothing new is final):
    /// a chance to progress communication in flight, which MPI over TCP moves only inside MPI calls.
    ///
    /// With `resumingFrom`, sample `b`'s embeddings and layers 1…depth are not computed but copied from
    /// `slots[b]` of the prefix (computed by `forwardPrefix` with the same `dropoutSeed`, hence the same
    /// values); the forward resumes at layer depth + 1.
    public func forwardBackward(
        _ batch: MLMBatch, lossWeight: Float, dropoutSeed: UInt64?,
        resumingFrom: (prefix: ActivationPrefix, slots: [PrefixSlot])? = nil,
        onGradientsReady: ((Int) -> Void)? = nil
    ) -> [SampleLoss] {
        precondition(batch.validationError(for: config) == nil, batch.validationError(for: config)!.description)
        let B = batch.count, T = batch.seqLen, L = config.numLayers
        var results = [SampleLoss](repeating: SampleLoss(), count: B)
        if B == 0 {
            onGradientsReady?(layout.head.start)
            for l in stride(from: L - 1, through: 0, by: -1) { onGradientsReady?(layout.layers[l].start) }
            onGradientsReady?(0)
            return results
        }
        let ws = training
        ws.reserve(batch: B, seqLen: T)
        let dropout = dropoutKeys(ws, seed: dropoutSeed, batch: batch)
        batch.inputIds.withUnsafeBufferPointer { ids in
            batch.tokenTypeIds.withUnsafeBufferPointer { types in
                batch.attentionMask.withUnsafeBufferPointer { mask in
                    fillKeyBias(ws, mask: mask.baseAddress!, count: B * T)
                    var firstLayer = 0
                    if let (prefix, slots) = resumingFrom {
                        precondition(slots.count == B, "\(slots.count) prefix slots for a batch of \(B)")
                        for (b, slot) in slots.enumerated() {
                            precondition(
                                slot.chunk < prefix.used && prefix.chunkSamples[slot.chunk][slot.row] == batch.sampleIndices[b],
                                "prefix slot \(slot) does not hold sample \(batch.sampleIndices[b])")
                            copyPrefix(from: prefix.chunks[slot.chunk], row: slot.row, to: ws, slot: b, depth: prefix.depth, seqLen: T)
                        }
                        firstLayer = prefix.depth
                    } else {
                        embeddingsForward(
                            ws, ids: ids.baseAddress!, types: types.baseAddress!, batch: B, seqLen: T,
                            dropoutKeys: dropout)
                    }
                    // The last layer at the masked rows only, unless it came from the prefix (dense, cached there).
                    let sparse = !denseLastLayer && firstLayer < L
                    for l in firstLayer..<(sparse ? L - 1 : L) {
                        layerForward(
                            l, ws, cache: ws.layers[l], input: ws.hidden[l], output: ws.hidden[l + 1],
                            batch: B, seqLen: T, dropoutKeys: dropout)
                    }
                    let m: Int
                    if sparse {
                        m = collectMaskedRows(batch, firstSample: 0, count: B)
                        sparseLayerForward(
                            L - 1, ws, cache: ws.layers[L - 1], input: ws.hidden[L - 1], rows: m,
                            output: head.gathered, batch: B, seqLen: T, dropoutKeys: dropout)
                    } else {
                        m = gatherMaskedRows(batch, firstSample: 0, count: B, from: ws.hidden[L])
                    }
                    runHead(rows: m, lossWeight: lossWeight)
                    accumulate(into: &results, firstSample: 0, seqLen: T, rows: m)
                    headBackward(rows: m, into: sparse ? nil : ws.gradA, batch: B, seqLen: T)
                    onGradientsReady?(layout.head.start)
                    var dOut = ws.gradA!, dIn = ws.gradB!
                    for l in stride(from: L - 1, through: 0, by: -1) {
                        if sparse && l == L - 1 {
                            sparseLayerBackward(
                                l, ws, input: ws.hidden[l], rows: m, dOutput: head.gradGathered, dInput: dIn,
                                batch: B, seqLen: T, dropoutKeys: dropout, progress: onGradientsReady)
                        } else {
                            layerBackward(
                                l, ws, input: ws.hidden[l], dOutput: dOut, dInput: dIn, batch: B, seqLen: T,
                                dropoutKeys: dropout, progress: onGradientsReady)
                        }
                        onGradientsReady?(layout.layers[l].start)
                        swap(&dOut, &dIn)
                    }
                    embeddingsBackward(
                        ws, dHidden: dOut, ids: ids.baseAddress!, types: types.baseAddress!, batch: B,
                        seqLen: T, dropoutKeys: dropout)
                    onGradientsReady?(0)
                }
            }
        }
        return results
    }

    // MARK: Shared steps

    /// Runs embeddings and layers 1...exitLayer on chunks of the batch and calls `body(firstSample, M)`
    /// with the chunk's masked rows gathered into the head workspace (the exit layer computed at those
    /// rows only unless `denseLastLayer`).
    func score(_ batch: MLMBatch, exitLayer: Int, _ body: (Int, Int) -> Void) {
        precondition((1...config.numLayers).contains(exitLayer), "exitLayer \(exitLayer) outside 1...\(config.numLayers)")
        precondition(batch.validationError(for: config) == nil, batch.validationError(for: config)!.description)
        let T = batch.seqLen, ws = scoring
        batch.inputIds.withUnsafeBufferPointer { ids in
            batch.tokenTypeIds.withUnsafeBufferPointer { types in
                batch.attentionMask.withUnsafeBufferPointer { mask in
                    var first = 0
                    while first < batch.count {
                        let B = min(max(scoringChunk, 1), batch.count - first)
                        ws.reserve(batch: B, seqLen: T)
                        let o = first * T
                        fillKeyBias(ws, mask: mask.baseAddress! + o, count: B * T)
                        embeddingsForward(
                            ws, ids: ids.baseAddress! + o, types: types.baseAddress! + o, batch: B, seqLen: T,
                            dropoutKeys: nil)
                        // The exit layer at the masked rows only: nothing but the head reads its output here.
                        let sparse = !denseLastLayer
                        for l in 0..<(sparse ? exitLayer - 1 : exitLayer) {
                            layerForward(
                                l, ws, cache: ws.layers[0], input: ws.hidden[l % 2], output: ws.hidden[(l + 1) % 2],
                                batch: B, seqLen: T, dropoutKeys: nil)
                        }
                        let m: Int
                        if sparse {
                            m = collectMaskedRows(batch, firstSample: first, count: B)
                            sparseLayerForward(
                                exitLayer - 1, ws, cache: ws.layers[0], input: ws.hidden[(exitLayer - 1) % 2],
                                rows: m, output: head.gathered, batch: B, seqLen: T, dropoutKeys: nil)
                        } else {
                            m = gatherMaskedRows(batch, firstSample: first, count: B, from: ws.hidden[exitLayer % 2])
                        }
                        body(first, m)
                        first += B
                    }
                }
            }
        }
    }

    /// Adds the head's per-row losses to per-sample results.
    func accumulate(into results: inout [SampleLoss], firstSample: Int, seqLen: Int, rows m: Int) {
        for r in 0..<m {
            let b = firstSample + Int(head.rows[r]) / seqLen
            results[b].lossSum += head.losses[r]
            results[b].maskedTokens += 1
            if head.correct[r] { results[b].correct += 1 }
        }
    }

    func fillKeyBias(_ ws: Workspace, mask: UnsafePointer<Int32>, count: Int) {
        for i in 0..<count { ws.keyBias[i] = mask[i] != 0 ? 0 : Softmax.maskedBias }
    }

    /// The batch's dropout keys filled into `ws` (nil without a seed: no dropout), keyed by each sample's
    /// global index, so `forwardBackward` and `forwardPrefix` draw the same masks for a sample.
    func dropoutKeys(_ ws: Workspace, seed: UInt64?, batch: MLMBatch) -> UnsafePointer<UInt64>? {
        guard let seed else { return nil }
        fillDropoutKeys(ws, seed: seed, sampleIndices: batch.sampleIndices, firstSample: 0, count: batch.count)
        return UnsafePointer(ws.dropoutKeys)
    }

    /// Dropout key for (site, sample slot) is `dropoutKeys[site * count + b]`.
    func fillDropoutKeys(_ ws: Workspace, seed: UInt64, sampleIndices: [Int], firstSample: Int, count: Int) {
        let sites = Workspace.siteCount(layers: config.numLayers)
        for s in 0..<sites {
            for b in 0..<count {
                ws.dropoutKeys[s * count + b] = CounterHash.key(
                    seed, UInt64(bitPattern: Int64(sampleIndices[firstSample + b])),
                    UInt64(s))
            }
        }
    }
}
