/// One binary shard: `sequences × seqLen` little-endian token ids.
public struct ShardInfo: Codable, Equatable, Sendable {
    /// File name relative to the dataset directory.
    public var file: String
    public var sequences: Int
    /// FNV-1a 64 (hex) of the shard's bytes.
    public var fnv1a64: String
}
