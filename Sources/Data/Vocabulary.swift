import Core
import Foundation

/// A WordPiece vocabulary loaded from a BERT `vocab.txt`: one token per line, id = zero-based
/// line number (the HuggingFace convention). The five BERT special tokens are looked up by
/// name, never assumed to sit at fixed ids.
public struct Vocabulary: Sendable {
    /// The special token names, in the order `sift vocab` writes them.
    public static let specialTokenNames = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    /// Tokens indexed by id.
    public let tokens: [String]
    /// FNV-1a 64 hex digest of the vocab file bytes (identifies the vocabulary in manifests).
    public let hash: String
    public let padId: Int32
    public let unkId: Int32
    public let clsId: Int32
    public let sepId: Int32
    public let maskId: Int32
    /// Longest token measured in Unicode scalars, with any `##` prefix removed (bounds the WordPiece search).
    public let maxPieceScalars: Int
    /// Which ids are `##` continuation pieces (whole-word masking's word boundaries).
    public let continuationPieces: ContinuationPieces
    private let idByToken: [String: Int32]

    /// Number of tokens (= model vocabulary size).
    public var count: Int { tokens.count }

    /// The ids of [PAD] [UNK] [CLS] [SEP] [MASK], ascending.
    public var specialIds: [Int32] { [padId, unkId, clsId, sepId, maskId].sorted() }

    /// Loads `path`. Throws for a missing file, an empty vocabulary, empty or duplicate lines
    /// (with line numbers) and a missing special token.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.fileNotFound(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "read failed")
        }
        try self.init(bytes: [UInt8](data), path: path)
    }

    /// Parses vocab.txt bytes; `path` is only used in error messages.
    public init(bytes: [UInt8], path: String = "<vocab>") throws {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        if let last = lines.last, last.isEmpty { lines.removeLast() }  // the final newline
        if lines.isEmpty { throw DataError.emptyVocabulary(path: path) }
        var tokens: [String] = []
        tokens.reserveCapacity(lines.count)
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(lines.count)
        var maxLen = 1
        for (i, lineBytes) in lines.enumerated() {
            // HuggingFace strips only "\n"; we also drop a trailing "\r" so CRLF files work.
            var slice = lineBytes
            if slice.last == 0x0D { slice = slice.dropLast() }
            let token = String(decoding: slice, as: UTF8.self)
            if token.isEmpty { throw DataError.emptyVocabularyLine(path: path, line: i + 1) }
            if let first = ids[token] {
                throw DataError.duplicateVocabularyEntry(path: path, token: token, firstLine: Int(first) + 1, line: i + 1)
            }
            ids[token] = Int32(i)
            tokens.append(token)
            let scalars = token.unicodeScalars.count - (token.hasPrefix("##") ? 2 : 0)
            maxLen = max(maxLen, scalars)
        }
        func special(_ name: String) throws -> Int32 {
            guard let id = ids[name] else { throw DataError.missingSpecialToken(path: path, token: name) }
            return id
        }
        self.padId = try special("[PAD]")
        self.unkId = try special("[UNK]")
        self.clsId = try special("[CLS]")
        self.sepId = try special("[SEP]")
        self.maskId = try special("[MASK]")
        self.tokens = tokens
        self.idByToken = ids
        self.maxPieceScalars = maxLen
        self.continuationPieces = ContinuationPieces(tokens: tokens)
        var h = FNV1a64()
        h.update(bytes)
        self.hash = h.hex
    }

    /// The same vocabulary in storage of its own (nothing shared with `self`), for a worker thread: threads
    /// that look words up in one shared table spend their time bouncing its reference counts between cores.
    public func independentCopy() -> Vocabulary { Vocabulary(copying: self) }

    private init(copying other: Vocabulary) {
        let tokens = other.tokens.map { String(decoding: Array($0.utf8), as: UTF8.self) }
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, token) in tokens.enumerated() { ids[token] = Int32(i) }
        self.tokens = tokens
        self.idByToken = ids
        self.hash = String(decoding: Array(other.hash.utf8), as: UTF8.self)
        self.padId = other.padId
        self.unkId = other.unkId
        self.clsId = other.clsId
        self.sepId = other.sepId
        self.maskId = other.maskId
        self.maxPieceScalars = other.maxPieceScalars
        self.continuationPieces = ContinuationPieces(tokens: tokens)
    }

    /// The id of `token`, or nil if it is not in the vocabulary.
    @inline(__always)
    public func id(of token: String) -> Int32? { idByToken[token] }

    /// The token string for `id` (precondition: 0 <= id < count).
    public func token(for id: Int32) -> String { tokens[Int(id)] }
}
