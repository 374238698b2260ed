/// How far a pass over a corpus plan has come, in chunk order: bytes of the corpus (file sizes as planned,
/// compressed files at their compressed size) behind it, of the total.
public struct CorpusProgress: Sendable {
    public var bytesDone: Int
    public var totalBytes: Int
    public var chunksDone: Int
    public var chunks: Int
}
