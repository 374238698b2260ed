/// A piece of a chunk's output that `ChunkPipeline` carries: the chunk's last piece says so.
protocol ChunkOutput: Sendable {
    /// Whether this is the chunk's last piece.
    var last: Bool { get }
}

extension ChunkPart: ChunkOutput {}
