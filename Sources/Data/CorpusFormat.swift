import Foundation

/// How the text of corpus files is to be read by `sift prepare`.
public enum CorpusFormat: String, CaseIterable, Sendable, Codable {
    /// Plain text: documents are runs of non-blank lines, taken as they are.
    case text
    /// reStructuredText (Sphinx sources such as Python's documentation): decoration that is markup
    /// rather than language — section adornments, table borders, directive and comment markers,
    /// link targets, inline role syntax — is removed; prose and code text are kept.
    case rst
    /// JSON Lines: every line is an object whose text field (a string; `text` unless another name is
    /// given) is one document, the form most public corpora ship in.
    case jsonl

    /// The format `auto` picks for a list of corpus files: `rst` if most files end in `.rst` or
    /// `.rst.txt` (Sphinx's `_sources`), `jsonl` if most end in `.jsonl`, else `text` (a `.gz` or `.zst`
    /// suffix is looked through: `a.jsonl.zst` counts as `.jsonl`).
    public static func detect(files: [String]) -> CorpusFormat {
        guard !files.isEmpty else { return .text }
        let names = files.map(CorpusCompression.uncompressedName)
        let rst = names.filter { $0.hasSuffix(".rst") || $0.hasSuffix(".rst.txt") }.count
        let jsonl = names.filter { $0.hasSuffix(".jsonl") }.count
        if 2 * rst > files.count { return .rst }
        if 2 * jsonl > files.count { return .jsonl }
        return .text
    }
}
