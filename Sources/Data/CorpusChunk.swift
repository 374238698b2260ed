/// One piece of a corpus that one worker reads and tokenizes: a whole file, or a byte range of a large
/// file that starts and ends at line boundaries.
public struct CorpusChunk: Codable, Equatable, Sendable {
    /// Index of the file in `CorpusPlan.files`.
    public var file: Int
    /// First byte of the range.
    public var start: Int
    /// One past the last byte; nil: to the end of the file.
    public var end: Int?
    /// Whether the line before `start` holds text, so that the chunk continues an open document.
    public var startsInDocument: Bool
    /// Whether this is the file's first chunk (`start` 0) and its last (`end` nil).
    public var firstOfFile: Bool
    public var lastOfFile: Bool
    /// Bytes planned (the file's size when planned, for the last chunk of a file).
    public var size: Int
}
