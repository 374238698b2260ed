/// A piece of one chunk's tokenized output, in chunk order: its token ids and where documents end.
/// A chunk's output comes in one or more parts (a part holds at most `ChunkTokenizer.partTokens` ids, so
/// memory stays bounded whatever the chunk); the chunk's counts ride on its last part.
public struct ChunkPart: Sendable {
    public var chunk: Int
    public var first = true
    public var last = false
    /// Token ids of the part's text, in order.
    public var tokens: [Int32] = []
    /// Offsets into `tokens` at which a document ends (equal offsets: a document without tokens).
    public var documentEnds: [Int] = []
    /// The filter carry the chunk was tokenized from (first part) and ended with (last part).
    public var startCarry = CorpusFilter.Carry()
    public var endCarry = CorpusFilter.Carry()
    /// What reading the chunk found; set on the last part only.
    public var counts = ChunkCounts()

    public init(chunk: Int) { self.chunk = chunk }
}
