import CMPI
import Foundation

// The reductions over ranks: blocking sums, maxima and agreement, and the non-blocking sums of the
// gradient buckets.
extension Communicator {
    /// In-place sum over ranks of `count` floats.
    public func allreduceSum(_ data: UnsafeMutablePointer<Float>, count: Int) {
        guard size > 1, count > 0 else { return }
        check(
            MPI_Allreduce(sift_mpi_in_place(), data, Int32(count), sift_mpi_float(), sift_mpi_sum(), comm),
            "MPI_Allreduce")
    }

    /// In-place sum over ranks of `count` doubles.
    public func allreduceSum(_ data: UnsafeMutablePointer<Double>, count: Int) {
        guard size > 1, count > 0 else { return }
        check(
            MPI_Allreduce(sift_mpi_in_place(), data, Int32(count), sift_mpi_double(), sift_mpi_sum(), comm),
            "MPI_Allreduce")
    }

    /// Sum over ranks of a list of doubles (small, for statistics).
    public func allreduceSum(_ values: [Double]) -> [Double] {
        var out = values
        out.withUnsafeMutableBufferPointer { allreduceSum($0.baseAddress!, count: $0.count) }
        return out
    }

    /// Sum over ranks of one integer.
    public func allreduceSum(_ value: Int) -> Int {
        guard size > 1 else { return value }
        var v = Int64(value)
        check(MPI_Allreduce(sift_mpi_in_place(), &v, 1, sift_mpi_int64(), sift_mpi_sum(), comm), "MPI_Allreduce")
        return Int(v)
    }

    /// Maximum over ranks of one double.
    public func allreduceMax(_ value: Double) -> Double {
        guard size > 1 else { return value }
        var v = value
        check(MPI_Allreduce(sift_mpi_in_place(), &v, 1, sift_mpi_double(), sift_mpi_max(), comm), "MPI_Allreduce")
        return v
    }

    /// Element-wise maximum over ranks of a few doubles (one collective for several decisions).
    public func allreduceMax(_ values: [Double]) -> [Double] {
        guard size > 1 else { return values }
        var v = values
        check(MPI_Allreduce(sift_mpi_in_place(), &v, Int32(v.count), sift_mpi_double(), sift_mpi_max(), comm), "MPI_Allreduce")
        return v
    }

    /// True on every rank if `ok` is true on every rank. Used before any collective work so that a
    /// problem found on one rank (a missing file on one node) stops all ranks instead of hanging them.
    public func allAgree(_ ok: Bool) -> Bool {
        guard size > 1 else { return ok }
        var v: Int32 = ok ? 1 : 0
        check(MPI_Allreduce(sift_mpi_in_place(), &v, 1, sift_mpi_int32(), sift_mpi_min(), comm), "MPI_Allreduce")
        return v == 1
    }

    /// Starts a non-blocking in-place sum over ranks of `count` floats; the data must stay untouched
    /// until the returned request completes.
    public func startAllreduceSum(_ data: UnsafeMutablePointer<Float>, count: Int) -> PendingReduction {
        startAllreduce(data, count: count, type: sift_mpi_float(), op: sift_mpi_sum())
    }

    public func startAllreduceSumBF16(_ data: UnsafeMutablePointer<UInt16>, count: Int) -> PendingReduction {
        startAllreduce(data, count: count, type: sift_mpi_uint16(), op: sift_mpi_bf16_sum())
    }

    /// A non-blocking in-place allreduce of `count` elements of `type` with `op` (nothing to do on one rank).
    private func startAllreduce(_ data: UnsafeMutableRawPointer, count: Int, type: MPI_Datatype, op: MPI_Op) -> PendingReduction {
        let pending = PendingReduction()
        guard size > 1, count > 0 else { return pending }
        check(MPI_Iallreduce(sift_mpi_in_place(), data, Int32(count), type, op, comm, &pending.request), "MPI_Iallreduce")
        pending.active = true
        return pending
    }
}
