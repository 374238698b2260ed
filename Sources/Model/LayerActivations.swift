/// Pointers to one encoder layer's saved activations (N = B*T rows). For a layer run at the masked
/// positions only (`sparseLayerForward`), every `[N, …]` array but `k` and `v` holds the M gathered
/// rows compactly, and `probs`/`droppedProbs` the `[Σ_b A·m_b·T]` blocks of `Attention.forward(…queries:…)`.
struct LayerActivations {
    var q, k, v: UnsafeMutablePointer<Float>  // [N, H]
    var probs: UnsafeMutablePointer<Float>  // [B, A, T, T] softmax output
    var droppedProbs: UnsafeMutablePointer<Float>?  // [B, A, T, T] after attention dropout
    var context: UnsafeMutablePointer<Float>  // [N, H]
    var attentionSum: UnsafeMutablePointer<Float>  // [N, H] x + dropout(dense(context)), LN input
    var attentionMean, attentionRstd: UnsafeMutablePointer<Float>  // [N]
    var attentionNormed: UnsafeMutablePointer<Float>  // [N, H]
    var intermediatePre: UnsafeMutablePointer<Float>  // [N, I] before GELU
    var intermediateAct: UnsafeMutablePointer<Float>  // [N, I] after GELU
    var outputSum: UnsafeMutablePointer<Float>  // [N, H] LN input
    var outputMean, outputRstd: UnsafeMutablePointer<Float>  // [N]
}
