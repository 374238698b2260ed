/// One item of a streamed corpus.
public enum CorpusEvent {
    /// A piece of text inside the current document: a whole line, or a part of an overlong
    /// line cut at whitespace (so a multi-GB line never has to sit in memory).
    case text(String)
    /// The current document ended (blank line or end of file after at least one text line).
    case endOfDocument
}
