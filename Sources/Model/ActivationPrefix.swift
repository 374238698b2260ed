import Core
import Kernels

/// Saved activations of the embeddings and the first `depth` encoder layers, computed with the
/// training forward's dropout, so that a sample scored at exit layer `depth` is trained by resuming
/// at layer `depth` instead of recomputing layers 1…depth (reuse of SIFT's scoring forward).
///
/// Each forward call (`forwardPrefix`, `scoreKeepingPrefix`) fills one chunk; `reset()` at the start of
/// a step makes every chunk free again. Chunks keep their storage across steps, so steady-state steps
/// allocate nothing.
///
/// Memory per sample, in floats: `(depth + 2)·T·H` (embedding LN input, hidden states 0…depth) plus per
/// cached layer `7·T·H + 2·T·I + 5·T` and the attention probabilities `A·T²` (twice with attention
/// dropout). BERT-mini at T 128, depth 1: 2.9 MB per sample; BERT-base: 9.2 MB.
public final class ActivationPrefix {
    /// Layers kept: 1…depth (1-based), i.e. the scoring exit layer.
    public let depth: Int
    let config: BertConfig
    var chunks: [Workspace] = []
    /// The global sample index of each row of each chunk (checked when a training batch resumes).
    var chunkSamples: [[Int]] = []
    /// Chunks in use this step.
    private(set) var used = 0

    public init(config: BertConfig, depth: Int) {
        precondition((1...config.numLayers).contains(depth), "prefix depth \(depth) outside 1...\(config.numLayers)")
        self.config = config
        self.depth = depth
    }

    /// Frees every chunk for reuse (their storage stays allocated).
    public func reset() { used = 0 }

    /// The next free chunk, sized for `batch` samples of `seqLen` tokens, and its index.
    func nextChunk(batch: Int, seqLen: Int, samples: [Int]) -> (Workspace, Int) {
        if used == chunks.count {
            chunks.append(
                Workspace(
                    config: config, cachedLayers: depth, hiddenSlots: depth + 1, withBackward: false,
                    withDroppedProbs: config.attentionDropout > 0))
            chunkSamples.append([])
        }
        let ws = chunks[used]
        ws.reserve(batch: batch, seqLen: seqLen)
        chunkSamples[used] = samples
        used += 1
        return (ws, used - 1)
    }

    /// Bytes held by all chunks.
    public var bytes: Int { chunks.reduce(0) { $0 + $1.floatCount * 4 } }
}

extension BertForMaskedLM {
    /// Embeddings and layers 1…`prefix.depth` of `batch` with the training dropout of `forwardBackward`
    /// (same `dropoutSeed` → same masks), saved in a new chunk of `prefix`. Returns the chunk index;
    /// sample `b` of the batch is row `b`.
    @discardableResult
    public func forwardPrefix(_ batch: MLMBatch, dropoutSeed: UInt64?, into prefix: ActivationPrefix) -> Int {
        precondition(batch.validationError(for: config) == nil, batch.validationError(for: config)!.description)
        let B = batch.count, T = batch.seqLen
        let (ws, chunk) = prefix.nextChunk(batch: max(B, 1), seqLen: T, samples: batch.sampleIndices)
        if B == 0 { return chunk }
        let dropout = dropoutKeys(ws, seed: dropoutSeed, batch: batch)
        batch.inputIds.withUnsafeBufferPointer { ids in
            batch.tokenTypeIds.withUnsafeBufferPointer { types in
                batch.attentionMask.withUnsafeBufferPointer { mask in
                    fillKeyBias(ws, mask: mask.baseAddress!, count: B * T)
                    embeddingsForward(ws, ids: ids.baseAddress!, types: types.baseAddress!, batch: B, seqLen: T, dropoutKeys: dropout)
                    for l in 0..<prefix.depth {
                        layerForward(
                            l, ws, cache: ws.layers[l], input: ws.hidden[l], output: ws.hidden[l + 1], batch: B,
                            seqLen: T, dropoutKeys: dropout)
                    }
                }
            }
        }
        return chunk
    }

    /// Approximate losses at exit layer `prefix.depth` computed by `forwardPrefix` — so with the
    /// training dropout, unlike `sampleLosses` — keeping the activations for `forwardBackward(resumingFrom:)`.
    /// With a `vocabulary` the head scores only its classes and each label (`ScoringVocabulary`).
    public func scoreKeepingPrefix(
        _ batch: MLMBatch, dropoutSeed: UInt64?, into prefix: ActivationPrefix,
        vocabulary: ScoringVocabulary? = nil
    ) -> (losses: [SampleLoss], chunk: Int) {
        let chunk = forwardPrefix(batch, dropoutSeed: dropoutSeed, into: prefix)
        var results = [SampleLoss](repeating: SampleLoss(), count: batch.count)
        if batch.count > 0 {
            let m = gatherMaskedRows(
                batch, firstSample: 0, count: batch.count,
                from: prefix.chunks[chunk].hidden[prefix.depth])
            runScoringHead(rows: m, decoder: gatherSubsetDecoder(vocabulary))
            accumulate(into: &results, firstSample: 0, seqLen: batch.seqLen, rows: m)
        }
        return (results, chunk)
    }

    /// Copies sample `row` of `source` (a prefix chunk) into batch slot `b` of the training workspace:
    /// the embeddings' LayerNorm input and statistics, hidden states 0…depth and layers 1…depth's caches.
    func copyPrefix(from source: Workspace, row: Int, to ws: Workspace, slot b: Int, depth: Int, seqLen T: Int) {
        let H = config.hiddenSize, I = config.intermediateSize, A = config.numHeads
        @inline(__always) func copy(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ perSample: Int) {
            (dst + b * perSample).update(from: src + row * perSample, count: perSample)
        }
        copy(source.embeddingSum, ws.embeddingSum, T * H)
        copy(source.embeddingMean, ws.embeddingMean, T)
        copy(source.embeddingRstd, ws.embeddingRstd, T)
        for l in 0...depth { copy(source.hidden[l], ws.hidden[l], T * H) }
        for l in 0..<depth {
            let s = source.layers[l], d = ws.layers[l]
            copy(s.q, d.q, T * H)
            copy(s.k, d.k, T * H)
            copy(s.v, d.v, T * H)
            copy(s.context, d.context, T * H)
            copy(s.attentionSum, d.attentionSum, T * H)
            copy(s.attentionNormed, d.attentionNormed, T * H)
            copy(s.outputSum, d.outputSum, T * H)
            copy(s.intermediatePre, d.intermediatePre, T * I)
            copy(s.intermediateAct, d.intermediateAct, T * I)
            copy(s.attentionMean, d.attentionMean, T)
            copy(s.attentionRstd, d.attentionRstd, T)
            copy(s.outputMean, d.outputMean, T)
            copy(s.outputRstd, d.outputRstd, T)
            copy(s.probs, d.probs, A * T * T)
            if let x = s.droppedProbs, let y = d.droppedProbs { copy(x, y, A * T * T) }
        }
    }
}
