/// A piece of a chunk's output that `ChunkPipeline` carries: the chunk's last piece says so, and its weight
/// is what the pipeline's bound on memory counts.
protocol ChunkOutput: Sendable {
    /// Whether this is the chunk's last piece.
    var last: Bool { get }
    /// The piece's share of the memory bound (≥ 1).
    var weight: Int { get }
    /// The weight of the largest piece.
    static var fullWeight: Int { get }
}

/// Weighed in token ids, so that many small parts (a corpus of small files) can wait side by side in the
/// room a few full parts take.
extension ChunkPart: ChunkOutput {
    var weight: Int { tokens.count + 1 }
    static var fullWeight: Int { ChunkTokenizer.partTokens + 1 }
}
