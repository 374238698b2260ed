/// How a corpus file's bytes are stored, told by its name: `.gz` gzip (one or more members), `.zst` zstd
/// (one or more frames), anything else as it is.
public enum CorpusCompression: String, Codable, Sendable {
    case none
    case gzip
    case zstd

    public init(path: String) {
        if path.hasSuffix(".gz") {
            self = .gzip
        } else if path.hasSuffix(".zst") {
            self = .zstd
        } else {
            self = .none
        }
    }

    /// The name without its compression suffix (`a.jsonl.gz` → `a.jsonl`), which tells the text's format.
    public static func uncompressedName(_ path: String) -> String {
        switch CorpusCompression(path: path) {
        case .none: return path
        case .gzip: return String(path.dropLast(3))
        case .zstd: return String(path.dropLast(4))
        }
    }
}
