/// Where a corpus reader is: the file and 1-based line of the event it is delivering. A reference, so a
/// caller can read it inside `CorpusReader.read`'s callback (e.g. to name the line of a broken record).
public final class CorpusPosition: @unchecked Sendable {
    public internal(set) var file = ""
    public internal(set) var line = 0
    public init() {}
}
