/// Why a HuggingFace-format model directory could not be read or written.
public enum HuggingFaceError: Error, CustomStringConvertible, Equatable {
    /// The directory (or a required file in it) does not exist.
    case missingFile(path: String)
    /// The weights are in a format we do not read (e.g. `pytorch_model.bin`, sharded checkpoints).
    case unsupportedWeights(path: String, reason: String)
    /// `config.json` is not a JSON object or a key has the wrong type.
    case invalidConfig(path: String, reason: String)
    /// `config.json` asks for an architecture variant this BERT does not implement.
    case unsupportedConfig(path: String, key: String, value: String)
    /// A required tensor is absent (`tried` lists the names looked for).
    case missingTensor(path: String, tensor: String, tried: [String])
    /// A tensor has a different shape than the config implies.
    case shapeMismatch(path: String, tensor: String, expected: [Int], actual: [Int])
    /// The parameter buffer does not match the layout.
    case parameterCountMismatch(expected: Int, actual: Int)
    /// The layout was built for a different config than the one given.
    case layoutMismatch
    /// The export destination exists and `overwrite` was not requested (or it is not a directory).
    case destinationExists(path: String)
    /// The export destination exists but is not a directory sift exported (`HuggingFaceCheckpoint.replacementProblem`).
    case notReplaceable(path: String, reason: String)
    /// `vocab.txt` has more tokens than the embedding table has rows.
    case vocabTooLarge(path: String, tokens: Int, vocabSize: Int)
    /// A file system operation failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path):
            return "\(path): no such file or directory"
        case let .unsupportedWeights(path, reason):
            return "\(path): \(reason)"
        case let .invalidConfig(path, reason):
            return "\(path): invalid config: \(reason)"
        case let .unsupportedConfig(path, key, value):
            return "\(path): unsupported \(key) = \(value)"
        case let .missingTensor(path, tensor, tried):
            let names = tried.count > 1 ? " (looked for \(tried.joined(separator: ", ")))" : ""
            return "\(path): missing tensor '\(tensor)'\(names)"
        case let .shapeMismatch(path, tensor, expected, actual):
            return "\(path): tensor '\(tensor)' has shape \(actual), expected \(expected) from config.json"
        case let .parameterCountMismatch(expected, actual):
            return "parameter buffer holds \(actual) floats but the layout needs \(expected)"
        case .layoutMismatch:
            return "parameter layout was built for a different config than the one exported"
        case let .destinationExists(path):
            return "\(path) already exists (pass --overwrite to replace it)"
        case let .notReplaceable(path, reason):
            return "\(path) \(reason); not replaced"
        case let .vocabTooLarge(path, tokens, vocabSize):
            return "\(path): \(tokens) tokens but the model's vocab_size is \(vocabSize)"
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }
}
