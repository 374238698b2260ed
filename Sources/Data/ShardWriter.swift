import Core
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Packs one split's token stream into fixed-length `[CLS] content… [SEP]` sequences and
/// writes them to shard files of `sequencesPerShard` sequences each.
///
/// RoBERTa-style full-sentence packing: documents are concatenated with one [SEP] between
/// consecutive documents, every sequence carries `seqLen - 2` content tokens, and only the
/// last sequence of the split is padded with [PAD] after its closing [SEP].
final class ShardWriter {
    let split: DatasetSplit
    let directory: String
    let seqLen: Int
    let sequencesPerShard: Int
    let tokenBytes: Int
    let cls: Int32, sep: Int32, pad: Int32

    private let content: UnsafeMutablePointer<Int32>
    private var filled = 0
    private var separatorPending = false
    private var documentHasTokens = false
    private let staging: UnsafeMutablePointer<UInt8>
    private let stagingCapacity: Int
    private var staged = 0

    private var fd: Int32 = -1
    private var shardPath = ""
    private var shardSequences = 0
    private var shardHash = FNV1a64()
    private(set) var shards: [ShardInfo] = []
    private(set) var sequences = 0
    private(set) var documents = 0
    private(set) var contentTokens = 0

    init(
        split: DatasetSplit, directory: String, seqLen: Int, sequencesPerShard: Int, tokenBytes: Int,
        cls: Int32, sep: Int32, pad: Int32
    ) {
        self.split = split
        self.directory = directory
        self.seqLen = seqLen
        self.sequencesPerShard = sequencesPerShard
        self.tokenBytes = tokenBytes
        self.cls = cls
        self.sep = sep
        self.pad = pad
        content = .allocate(capacity: seqLen)
        stagingCapacity = max(1 << 20, seqLen * tokenBytes)
        staging = .allocate(capacity: stagingCapacity)
    }

    deinit {
        content.deallocate()
        staging.deallocate()
        if fd >= 0 { close(fd) }
    }

    /// Appends the tokens of the current document (may be called many times per document).
    func append<C: Collection>(_ tokens: C) throws where C.Element == Int32 {
        if tokens.isEmpty { return }
        if separatorPending {
            separatorPending = false
            try push(sep)
        }
        if !documentHasTokens {
            documentHasTokens = true
            documents += 1
        }
        contentTokens += tokens.count
        for t in tokens { try push(t) }
    }

    /// Ends the current document; the next document's first token is preceded by [SEP].
    func endDocument() {
        if documentHasTokens { separatorPending = true }
        documentHasTokens = false
    }

    @inline(__always)
    private func push(_ token: Int32) throws {
        content[filled] = token
        filled += 1
        if filled == seqLen - 2 { try emitSequence() }
    }

    private func emitSequence() throws {
        if fd < 0 { try openShard() }
        if staged + seqLen * tokenBytes > stagingCapacity { try flushStaging() }
        var p = staging + staged
        func put(_ t: Int32) {
            let v = UInt32(bitPattern: t)
            p[0] = UInt8(truncatingIfNeeded: v)
            p[1] = UInt8(truncatingIfNeeded: v >> 8)
            if tokenBytes == 4 {
                p[2] = UInt8(truncatingIfNeeded: v >> 16)
                p[3] = UInt8(truncatingIfNeeded: v >> 24)
            }
            p += tokenBytes
        }
        put(cls)
        for i in 0..<filled { put(content[i]) }
        put(sep)
        for _ in (filled + 2)..<max(filled + 2, seqLen) { put(pad) }
        staged += seqLen * tokenBytes
        filled = 0
        shardSequences += 1
        sequences += 1
        if shardSequences == sequencesPerShard { try closeShard() }
    }

    private func openShard() throws {
        let name = "\(split.rawValue)-" + String(format: "%05d", shards.count) + ".bin"
        shardPath = (directory as NSString).appendingPathComponent(name)
        fd = open(shardPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw DataError.io(path: shardPath, reason: "cannot create: \(String(cString: strerror(errno)))") }
        shardSequences = 0
        shardHash = FNV1a64()
    }

    private func flushStaging() throws {
        let raw = UnsafeRawBufferPointer(start: staging, count: staged)
        shardHash.update(raw)
        try DurableFile.writeAll(fd, raw, path: shardPath)
        staged = 0
    }

    private func closeShard() throws {
        try flushStaging()
        if fsync(fd) != 0 { throw DataError.io(path: shardPath, reason: "fsync failed") }
        close(fd)
        fd = -1
        shards.append(
            ShardInfo(
                file: (shardPath as NSString).lastPathComponent, sequences: shardSequences,
                fnv1a64: shardHash.hex))
    }

    /// Pads and writes the final partial sequence and closes the last shard.
    func finish() throws {
        if filled > 0 { try emitSequence() }
        if fd >= 0 { try closeShard() }
    }
}
