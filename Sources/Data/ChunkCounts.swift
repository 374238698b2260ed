/// What reading one chunk found, beside its text: bytes, lines, and what was skipped or replaced.
public struct ChunkCounts: Sendable {
    /// Bytes of text read (decompressed; 0 when the file is binary).
    public var bytes = 0
    public var invalidUTF8 = 0
    /// Lines of the chunk, to number the lines of the next chunk of the same file.
    public var lines = 0
    /// The file was skipped as binary.
    public var binary = false
    public var removedLines = 0
    public var brokenLines = 0
    public var recordsWithoutText = 0
    /// Line numbers (from 1 at the chunk's start) of the first `ChunkTokenizer.keptPlaces` skipped JSON Lines records.
    public var brokenPlaces: [Int] = []
    public var textlessPlaces: [Int] = []

    public init() {}
}
