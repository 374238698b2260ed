import Communication
import CostModel
import Foundation
import Kernels

/// Sums gradients over ranks in buckets, overlapping communication with the rest of the backward.
///
/// The flat gradient buffer is cut, from its end towards its start, into contiguous buckets of about
/// `bucketBytes`: backward finishes gradients in that order (head, last layer, …, embeddings), so a
/// bucket's non-blocking allreduce can start as soon as backward reports that every gradient at or
/// after the bucket's start is final, as PyTorch DDP and Horovod do. The plan is a pure function of
/// the parameter count and bucket size, so every rank issues the same collectives in the same order.
public final class GradientBuckets {
    /// Element ranges of the buckets, in the order they are reduced (highest offsets first).
    public let ranges: [Range<Int>]
    private let gradients: FloatBuffer
    private let communicator: any Collectives
    private var pending: [PendingReduction?]
    private var nextToStart = 0
    /// Whether buckets start during backward (`true`) or only after it (`false`, for measuring).
    public let overlap: Bool
    /// With `--gradient-exchange bf16`: the gradients rounded to bfloat16, exchanged in place of the floats
    /// (half the bytes) and widened back when a bucket completes; nil for the float exchange.
    private let halves: UnsafeMutableBufferPointer<UInt16>?

    /// - Parameters:
    ///   - gradients: the flat gradient buffer (reduced in place).
    ///   - bucketBytes: target size of one bucket in bytes.
    ///   - overlap: start buckets during backward.
    ///   - bfloat16: exchange bfloat16 values (sums rounded at every addition) instead of floats; buckets keep
    ///     their float element ranges, so the plan does not change.
    public init(gradients: FloatBuffer, communicator: any Collectives, bucketBytes: Int, overlap: Bool, bfloat16: Bool = false) {
        self.gradients = gradients
        self.communicator = communicator
        self.overlap = overlap
        self.ranges = GradientBucketPlan.ranges(count: gradients.count, bucketElements: max(1, bucketBytes / 4))
        self.pending = Array(repeating: nil, count: ranges.count)
        halves = bfloat16 && communicator.size > 1 ? .allocate(capacity: gradients.count) : nil
    }

    deinit { halves?.deallocate() }

    /// Called by backward: every gradient at offsets `>= offset` is final. Starts the buckets that
    /// became ready and drives MPI's progress engine for those in flight (`Int.max`: only the latter,
    /// called between a layer's matrix products, since MPI over TCP moves data only inside MPI calls).
    public func gradientsReady(from offset: Int) {
        guard overlap else { return }
        while nextToStart < ranges.count && ranges[nextToStart].lowerBound >= offset {
            start(nextToStart)
        }
        for p in pending.prefix(nextToStart) { p?.poll() }
    }

    /// Starts any buckets not yet started and waits for all of them.
    /// - Returns: seconds spent waiting here, i.e. communication not hidden behind backward.
    public func finish() -> Double {
        let t0 = Date()
        while nextToStart < ranges.count { start(nextToStart) }
        for p in pending { p?.wait() }
        if let halves {
            // Every rank widens the same summed bits, so the replicas stay identical.
            BFloat16.widen(halves.baseAddress!, into: gradients.pointer, count: gradients.count)
        }
        pending = Array(repeating: nil, count: ranges.count)
        nextToStart = 0
        return Date().timeIntervalSince(t0)
    }

    private func start(_ i: Int) {
        let r = ranges[i]
        if let halves {
            BFloat16.round(gradients.pointer + r.lowerBound, into: halves.baseAddress! + r.lowerBound, count: r.count)
            pending[i] = communicator.startAllreduceSumBF16(halves.baseAddress! + r.lowerBound, count: r.count)
        } else {
            pending[i] = communicator.startAllreduceSum(gradients.pointer + r.lowerBound, count: r.count)
        }
        nextToStart = i + 1
    }
}
