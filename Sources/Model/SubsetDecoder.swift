import Kernels

/// Decoder rows and biases of a `ScoringVocabulary`, gathered from the weights before each use.
final class SubsetDecoder {
    let vocabulary: ScoringVocabulary
    let weights: FloatBuffer  // [K, H]
    let bias: FloatBuffer  // [K]
    var labelLogits = FloatBuffer(count: 0)  // [M]
    var labelColumns = UnsafeMutablePointer<Int32>.allocate(capacity: 1)  // [M]
    private var capacity = 0

    init(_ vocabulary: ScoringVocabulary, hidden: Int) {
        self.vocabulary = vocabulary
        weights = FloatBuffer(count: vocabulary.count * hidden)
        bias = FloatBuffer(count: vocabulary.count)
    }
    deinit { labelColumns.deallocate() }

    func reserve(_ m: Int) {
        if m <= capacity { return }
        capacity = max(m, capacity * 3 / 2, 16)
        labelLogits = FloatBuffer(count: capacity)
        labelColumns.deallocate()
        labelColumns = .allocate(capacity: capacity)
    }
}
