import Kernels

/// Activation and gradient workspace for up to `batchCapacity` sequences of up to `seqCapacity`
/// tokens, in one flat buffer (like llm.c's ActivationTensors). Grown, never shrunk, when a larger
/// batch arrives, so steady-state steps allocate nothing.
///
/// `cachedLayers` layer caches are kept (all L for training; 1, reused, for early-exit scoring)
/// and `hiddenSlots` `[N, H]` hidden-state buffers (L+1 for training; 2, ping-ponged, for scoring).
/// `withQueryRows` adds the buffers of a layer run at the masked positions only (`sparseLayerForward`).
final class Workspace {
    let config: BertConfig
    let cachedLayers: Int, hiddenSlots: Int, withBackward: Bool, withDroppedProbs: Bool, withQueryRows: Bool
    private(set) var batchCapacity = 0, seqCapacity = 0
    private var storage = FloatBuffer(count: 0)

    var keyBias: UnsafeMutablePointer<Float>! = nil  // [N] additive attention mask
    var embeddingSum: UnsafeMutablePointer<Float>! = nil  // [N, H] LN input
    var embeddingMean: UnsafeMutablePointer<Float>! = nil, embeddingRstd: UnsafeMutablePointer<Float>! = nil
    var hidden: [UnsafeMutablePointer<Float>] = []  // hiddenSlots × [N, H]
    var layers: [LayerActivations] = []
    // Backward-only buffers.
    var gradA: UnsafeMutablePointer<Float>! = nil, gradB: UnsafeMutablePointer<Float>! = nil  // [N, H] ping-pong
    var gradSum: UnsafeMutablePointer<Float>! = nil, gradTmp: UnsafeMutablePointer<Float>! = nil  // [N, H]
    var gradContext: UnsafeMutablePointer<Float>! = nil  // [N, H]
    var gradQ: UnsafeMutablePointer<Float>! = nil, gradK: UnsafeMutablePointer<Float>! = nil
    var gradV: UnsafeMutablePointer<Float>! = nil  // [N, H]
    var gradIntermediate: UnsafeMutablePointer<Float>! = nil  // [N, I]
    var attentionScratch: UnsafeMutablePointer<Float>! = nil  // [workers, T, T]
    // Query-row buffers (`withQueryRows`).
    var gatheredInput: UnsafeMutablePointer<Float>! = nil  // [M ≤ N, H] the layer input at the masked rows
    /// First gathered row of each sample, `[batchCapacity + 1]` (`Attention.QueryRows.rowStart`).
    var queryRowStart = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    /// Dropout keys per (site, sample): `[sites × batchCapacity]`.
    var dropoutKeys = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    init(
        config: BertConfig, cachedLayers: Int, hiddenSlots: Int, withBackward: Bool, withDroppedProbs: Bool,
        withQueryRows: Bool = false
    ) {
        self.config = config
        self.cachedLayers = cachedLayers
        self.hiddenSlots = hiddenSlots
        self.withBackward = withBackward
        self.withDroppedProbs = withDroppedProbs
        self.withQueryRows = withQueryRows
    }

    deinit {
        dropoutKeys.deallocate()
        queryRowStart.deallocate()
    }

    /// Floats held by the activation storage.
    var floatCount: Int { storage.count }

    /// Dropout sites: embeddings, then per layer attention probabilities, attention output, FFN output.
    static func siteCount(layers: Int) -> Int { 1 + 3 * layers }

    /// Makes room for `batch` sequences of `seqLen` tokens.
    func reserve(batch: Int, seqLen: Int) {
        if batch <= batchCapacity && seqLen <= seqCapacity { return }
        let b = max(batch, batchCapacity), t = max(seqLen, seqCapacity)
        var counter = BufferCarver(base: nil)
        carve(&counter, batch: b, seqLen: t)
        storage = FloatBuffer(count: counter.used)
        var real = BufferCarver(base: storage.pointer)
        carve(&real, batch: b, seqLen: t)
        dropoutKeys.deallocate()
        dropoutKeys = UnsafeMutablePointer<UInt64>.allocate(capacity: Workspace.siteCount(layers: config.numLayers) * b)
        queryRowStart.deallocate()
        queryRowStart = UnsafeMutablePointer<Int32>.allocate(capacity: b + 1)
        batchCapacity = b
        seqCapacity = t
    }

    private func carve(_ c: inout BufferCarver, batch: Int, seqLen: Int) {
        let n = batch * seqLen, H = config.hiddenSize, I = config.intermediateSize
        let probs = batch * config.numHeads * seqLen * seqLen
        keyBias = c.take(n)
        embeddingSum = c.take(n * H)
        embeddingMean = c.take(n)
        embeddingRstd = c.take(n)
        hidden = (0..<hiddenSlots).map { _ in c.take(n * H) }
        layers = (0..<cachedLayers).map { _ in
            LayerActivations(
                q: c.take(n * H), k: c.take(n * H), v: c.take(n * H), probs: c.take(probs),
                droppedProbs: withDroppedProbs ? c.take(probs) : nil,
                context: c.take(n * H), attentionSum: c.take(n * H),
                attentionMean: c.take(n), attentionRstd: c.take(n), attentionNormed: c.take(n * H),
                intermediatePre: c.take(n * I), intermediateAct: c.take(n * I),
                outputSum: c.take(n * H), outputMean: c.take(n), outputRstd: c.take(n))
        }
        if withBackward {
            gradA = c.take(n * H)
            gradB = c.take(n * H)
            gradSum = c.take(n * H)
            gradTmp = c.take(n * H)
            gradContext = c.take(n * H)
            gradQ = c.take(n * H)
            gradK = c.take(n * H)
            gradV = c.take(n * H)
            gradIntermediate = c.take(n * I)
            attentionScratch = c.take(seqLen * seqLen * Parallel.maximumWorkers)
        }
        if withQueryRows { gatheredInput = c.take(n * H) }
    }
}
