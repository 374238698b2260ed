import Foundation

/// The collective operations the trainer, the gradient buckets and the global selection use.
/// `Communicator` implements them over MPI; `SingleProcess` is the one-rank job without MPI, so a
/// whole training step can run (and be checked) inside a test process.
///
/// Every collective must be called in the same order on every rank; buffers are raw pointers so that
/// gradient buckets are reduced in place straight from the flat buffer.
public protocol Collectives: AnyObject, Sendable {
    /// This process's rank in `0..<size`.
    var rank: Int { get }
    /// Number of ranks in the job.
    var size: Int { get }
    /// Ends every rank of the job at once after a fatal error on this rank.
    func abort(code: Int32) -> Never
    /// In-place sum over ranks of `count` floats.
    func allreduceSum(_ data: UnsafeMutablePointer<Float>, count: Int)
    func allreduceSum(_ values: [Double]) -> [Double]
    func allreduceSum(_ value: Int) -> Int
    func allreduceMax(_ value: Double) -> Double
    /// Element-wise maximum over ranks.
    func allreduceMax(_ values: [Double]) -> [Double]
    /// True on every rank if `ok` is true on every rank.
    func allAgree(_ ok: Bool) -> Bool
    /// Every rank's floats on every rank, concatenated in rank order (counts may differ).
    func allgatherv(_ local: [Float]) -> [Float]
    func allgather(_ value: UInt64) -> [UInt64]
    /// Every rank's bytes on every rank, concatenated in rank order, when every rank knows every
    /// rank's count (`counts[r]` bytes from rank r; `local.count == counts[rank]`): one collective.
    func allgatherv(bytes local: [UInt8], counts: [Int]) -> [UInt8]
    /// Overwrites `count` floats on every rank with `root`'s.
    func broadcast(_ data: UnsafeMutablePointer<Float>, count: Int, root: Int)
    /// `root`'s bytes on every rank.
    func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8]
    /// Starts a non-blocking in-place sum of `count` floats; the data must stay untouched until the
    /// returned request completes.
    func startAllreduceSum(_ data: UnsafeMutablePointer<Float>, count: Int) -> PendingReduction
    /// Starts a non-blocking in-place sum of `count` bfloat16 values (the high halves of floats): each addition
    /// in float, rounded back to bfloat16. Every rank ends with the same bits.
    func startAllreduceSumBF16(_ data: UnsafeMutablePointer<UInt16>, count: Int) -> PendingReduction
}

extension Collectives {
    /// True on rank 0, the rank that prints, writes checkpoints and metrics.
    public var isRoot: Bool { rank == 0 }
    public func broadcast(_ data: UnsafeMutablePointer<Float>, count: Int) { broadcast(data, count: count, root: 0) }
    public func broadcast(_ bytes: [UInt8]) -> [UInt8] { broadcast(bytes, root: 0) }
}

extension Communicator: Collectives {}
