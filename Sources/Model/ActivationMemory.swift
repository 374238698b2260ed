/// Activation memory of the model's workspaces, computed from their own layout without allocating it,
/// for the run's memory estimate (`MemoryEstimate`). Per sample, so that absurd sample counts are
/// multiplied in floating point by the caller instead of overflowing here.
public enum ActivationMemory {
    /// Bytes per sequence of `seqLen` tokens of the training workspace (every layer, with backward).
    public static func trainingBytesPerSample(config: BertConfig, seqLen: Int) -> Int {
        bytes(
            Workspace(
                config: config, cachedLayers: config.numLayers, hiddenSlots: config.numLayers + 1,
                withBackward: true, withDroppedProbs: config.attentionDropout > 0, withQueryRows: true), seqLen: seqLen)
    }

    /// Bytes per candidate of the scoring prefix kept at exit layer `depth` (`ActivationPrefix`).
    public static func prefixBytesPerSample(config: BertConfig, depth: Int, seqLen: Int) -> Int {
        bytes(
            Workspace(
                config: config, cachedLayers: depth, hiddenSlots: depth + 1, withBackward: false,
                withDroppedProbs: config.attentionDropout > 0), seqLen: seqLen)
    }

    private static func bytes(_ ws: Workspace, seqLen: Int) -> Int {
        ws.reserve(batch: 1, seqLen: seqLen)
        return ws.floatCount * 4
    }
}
