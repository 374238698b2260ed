/// Every failure the data pipeline reports. Each case carries the path (and line when it
/// applies) so the CLI can print one clear line instead of trapping.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case fileNotFound(path: String)
    case unreadable(path: String, reason: String)
    case emptyVocabulary(path: String)
    case emptyVocabularyLine(path: String, line: Int)
    case duplicateVocabularyEntry(path: String, token: String, firstLine: Int, line: Int)
    case missingSpecialToken(path: String, token: String)
    case noUsableText(corpus: [String])
    case invalidSequenceLength(Int)
    case invalidArgument(String)
    case outputHoldsDifferentDataset(path: String, reason: String)
    case outputNotADataset(path: String)
    case malformedManifest(path: String, reason: String)
    case shardSizeMismatch(path: String, expectedBytes: Int, actualBytes: Int)
    case checksumMismatch(path: String, expected: String, actual: String)
    case malformedPremaskedLine(path: String, line: Int, reason: String)
    case io(path: String, reason: String)
    /// A compressed corpus file (.gz, .zst) that is truncated or not valid compressed data.
    case corruptInput(path: String, reason: String)
    /// An error another rank of the job met (`sift prepare` under mpirun), with its message; `io` when it
    /// was a failure while running rather than bad input.
    case failedOnRank(rank: Int, message: String, io: Bool)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): no such file or directory"
        case .unreadable(let path, let reason): return "\(path): cannot read (\(reason))"
        case .emptyVocabulary(let path): return "\(path): vocabulary is empty"
        case .emptyVocabularyLine(let path, let line): return "\(path):\(line): empty vocabulary entry"
        case .duplicateVocabularyEntry(let path, let token, let firstLine, let line):
            return "\(path):\(line): duplicate vocabulary entry \"\(token)\" (first seen on line \(firstLine))"
        case .missingSpecialToken(let path, let token):
            return "\(path): vocabulary lacks the special token \(token)"
        case .noUsableText(let corpus):
            return "corpus \(corpus.joined(separator: ", ")) contains no usable text"
        case .invalidSequenceLength(let n):
            return "sequence length \(n) is out of range: expected 8...512 (the model's maximum positions is 512)"
        case .invalidArgument(let message): return message
        case .outputHoldsDifferentDataset(let path, let reason):
            return "\(path) already holds a different dataset (\(reason)); refusing to overwrite it"
        case .outputNotADataset(let path):
            return "\(path) exists and is not a sift dataset (no manifest.json); refusing to overwrite it"
        case .malformedManifest(let path, let reason): return "\(path): malformed manifest (\(reason))"
        case .shardSizeMismatch(let path, let expected, let actual):
            return "\(path): shard has \(actual) bytes, expected \(expected)"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path): checksum \(actual) does not match manifest \(expected)"
        case .malformedPremaskedLine(let path, let line, let reason): return "\(path):\(line): \(reason)"
        case .io(let path, let reason): return "\(path): \(reason)"
        case .corruptInput(let path, let reason): return "\(path): \(reason)"
        case .failedOnRank(let rank, let message, _): return "rank \(rank): \(message)"
        }
    }
}
