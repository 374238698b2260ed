/// One kernel kind's part of a vanilla trainer step (`sift bench --only profile`), on rank 0.
public struct ProfileRow: Codable, Sendable {
    public var config: String
    /// The kind's name, or "other" (data, the loss allreduce and gradient allreduce waits, bookkeeping).
    public var kernel: String
    public var callsPerStep: Double
    public var secondsPerStep: Double
    public var shareOfStep: Double
    /// Achieved rate of the matrix kinds (2·m·n·k per product).
    public var gflops: Double?
    /// Achieved rate of the other kinds (bytes read plus written, counted once).
    public var gigabytesPerS: Double?
    /// The rate over this rank's limit: the sgemm peak (matrix kinds) or its share of the STREAM triad
    /// rate with all ranks streaming (the rest); nil when the limit was not measured in this run.
    public var fractionOfLimit: Double?
}
