import Selection

/// One run of launch/cluster_bench.sh (sift) or of tools/ddp_compare.py --cluster (PyTorch DDP).
public struct NetworkRun: Codable, Sendable {
    /// The tc rate of every host's link ("500mbit", "1gbit", ...) or "unlimited" (unshaped veth).
    public var rate: String
    /// `rate` in bit/s; nil for "unlimited".
    public var rateBitsPerS: Double?
    /// Named size (sift's --config).
    public var model: String
    /// vanilla or sift (nil for DDP, which is vanilla).
    public var policy: SelectionPolicy?
    /// Whether the gradient allreduce overlapped backward (nil for DDP, which always overlaps).
    public var overlap: Bool?
    /// "ddp" or "ddp_bf16" for PyTorch runs; nil for sift.
    public var engine: String?
    public var hosts: Int
    public var ranks: Int
    /// Samples backpropagated per step over all ranks.
    public var batchSize: Int
    public var perRankBatch: Int?
    public var selectFraction: Double?
    public var bucketMb: Double?
    public var microBatch: Int?
    /// Median wall-clock seconds per step over steps 3..N.
    public var stepS: Double
    /// Rank 0's median seconds per phase (sift: `PhaseTimes` keys; DDP: forward, backward, optimizer).
    public var times: [String: Double]
    public var loadAverageBefore: Double?
    public var loadAverageAfter: Double?
}
