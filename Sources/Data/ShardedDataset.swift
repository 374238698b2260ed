import Core
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Read-only view of a dataset written by `sift prepare`: validates `manifest.json` and the
/// shard sizes, memory-maps every shard, and copies any sequence in O(1).
/// Immutable after `init`, so it is safe to share between threads.
public final class ShardedDataset: @unchecked Sendable {
    public let directory: String
    public let manifest: DatasetManifest
    /// Tokens per sequence, including [CLS]/[SEP].
    public var seqLen: Int { manifest.seqLen }
    public var vocabHash: String { manifest.vocabHash }
    public var vocabSize: Int { manifest.vocabSize }

    private struct Mapped {
        let base: UnsafeRawPointer
        let bytes: Int
        let path: String
        let info: ShardInfo
    }
    private let trainShards: [Mapped]
    private let validationShards: [Mapped]
    private let tokenBytes: Int
    private let sequenceBytes: Int

    /// Opens `directory`; throws for a missing/malformed manifest or a shard whose size
    /// disagrees with it.
    public init(directory: String) throws {
        self.directory = directory
        let manifest = try DatasetPreparer.loadManifest((directory as NSString).appendingPathComponent(DatasetManifest.fileName))
        self.manifest = manifest
        let path = (directory as NSString).appendingPathComponent(DatasetManifest.fileName)
        guard manifest.tokenDtype == "uint16" || manifest.tokenDtype == "uint32" else {
            throw DataError.malformedManifest(path: path, reason: "unknown token dtype \(manifest.tokenDtype)")
        }
        guard DatasetPreparer.seqLenRange.contains(manifest.seqLen), manifest.sequencesPerShard > 0 else {
            throw DataError.malformedManifest(
                path: path,
                reason: "seqLen \(manifest.seqLen) / sequencesPerShard "
                    + "\(manifest.sequencesPerShard) out of range")
        }
        tokenBytes = manifest.tokenBytes
        sequenceBytes = manifest.seqLen * tokenBytes
        var mapped: [DatasetSplit: [Mapped]] = [:]
        var opened: [Mapped] = []
        do {
            for split in DatasetSplit.allCases {
                var list: [Mapped] = []
                let shards = manifest.shards(split)
                var total = 0
                for (i, info) in shards.enumerated() {
                    // Counts come from the manifest (untrusted): bounded before any product or sum uses them.
                    if i < shards.count - 1 && info.sequences != manifest.sequencesPerShard || info.sequences < 1
                        || info.sequences > manifest.sequencesPerShard || info.file.contains("/")
                        || info.sequences > (Int.max / 4) / sequenceBytes
                    {
                        throw DataError.malformedManifest(path: path, reason: "shard \(info.file) has \(info.sequences) sequences")
                    }
                    let (sum, overflow) = total.addingReportingOverflow(info.sequences)
                    if overflow {
                        throw DataError.malformedManifest(
                            path: path,
                            reason: "\(split.rawValue) shards hold "
                                + "more sequences than can be counted")
                    }
                    total = sum
                    let m = try Self.map(
                        (directory as NSString).appendingPathComponent(info.file),
                        expectedBytes: info.sequences * sequenceBytes, info: info)
                    opened.append(m)
                    list.append(m)
                }
                if total != manifest.sequences(split) {
                    throw DataError.malformedManifest(
                        path: path,
                        reason: "\(split.rawValue) shards hold \(total) "
                            + "sequences, manifest says \(manifest.sequences(split))")
                }
                mapped[split] = list
            }
        } catch {
            for m in opened { munmap(UnsafeMutableRawPointer(mutating: m.base), m.bytes) }
            throw error
        }
        self.trainShards = mapped[.train]!
        self.validationShards = mapped[.validation]!
    }

    deinit {
        for m in trainShards + validationShards { munmap(UnsafeMutableRawPointer(mutating: m.base), m.bytes) }
    }

    private static func map(_ path: String, expectedBytes: Int, info: ShardInfo) throws -> Mapped {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw DataError.fileNotFound(path: path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DataError.unreadable(path: path, reason: "fstat failed") }
        guard Int(st.st_size) == expectedBytes else {
            throw DataError.shardSizeMismatch(path: path, expectedBytes: expectedBytes, actualBytes: Int(st.st_size))
        }
        guard let p = mmap(nil, expectedBytes, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw DataError.unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        return Mapped(base: UnsafeRawPointer(p), bytes: expectedBytes, path: path, info: info)
    }

    /// Number of sequences in `split`.
    public func count(_ split: DatasetSplit) -> Int { manifest.sequences(split) }

    /// Copies sequence `index` (0 ≤ index < count(split)) of `split` into `into[0..<seqLen]`.
    public func copySequence(_ split: DatasetSplit, index: Int, into: UnsafeMutablePointer<Int32>) {
        precondition(index >= 0 && index < count(split), "sequence index \(index) out of range for \(split.rawValue)")
        let shard = (split == .train ? trainShards : validationShards)[index / manifest.sequencesPerShard]
        let src = shard.base + (index % manifest.sequencesPerShard) * sequenceBytes
        let n = manifest.seqLen
        if tokenBytes == 2 {
            for i in 0..<n {
                into[i] = Int32(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        } else {
            for i in 0..<n {
                into[i] = Int32(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        }
    }

    /// Recomputes every shard checksum and compares it with the manifest.
    public func verify() throws {
        for split in DatasetSplit.allCases {
            for m in split == .train ? trainShards : validationShards {
                var h = FNV1a64()
                h.update(UnsafeRawBufferPointer(start: m.base, count: m.bytes))
                if h.hex != m.info.fnv1a64 {
                    throw DataError.checksumMismatch(path: m.path, expected: m.info.fnv1a64, actual: h.hex)
                }
            }
        }
    }
}
