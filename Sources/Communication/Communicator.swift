import CMPI
import Core
import Foundation

/// An error reported by an MPI call, with the name of the call that failed.
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public var description: String { "MPI call \(call) failed with error code \(code)" }
}

/// The ranks of one job and the collective operations sift uses, over OpenMPI's `MPI_COMM_WORLD`.
///
/// Every collective must be called in the same order on every rank (MPI's rule); callers make
/// data-dependent decisions only after agreeing on them through a collective. Buffers are raw
/// pointers so that gradient buckets can be reduced in place straight from the flat buffer.
public final class Communicator: @unchecked Sendable {
    /// This process's rank in `0..<size`.
    public let rank: Int
    /// Number of ranks in the job.
    public let size: Int
    private let comm: MPI_Comm
    private var finalized = false

    /// The OpenMPI parameter that picks the algorithm of a non-blocking allreduce (libnbc).
    public static let iallreduceAlgorithmParameter = "coll_libnbc_iallreduce_algorithm"
    /// Its value for the ring, which sift asks for unless the user set the parameter.
    public static let ringIallreduce = 1

    /// Initialises MPI (once per process) with `MPI_THREAD_FUNNELED`: only the main thread calls MPI.
    /// Works under `mpirun` and, as an MPI singleton, when started directly.
    ///
    /// Before that it asks OpenMPI for the ring algorithm in non-blocking allreduces, unless the
    /// user chose one (`--mca coll_libnbc_iallreduce_algorithm K` or `OMPI_MCA_…` in the environment):
    /// libnbc's own choice for an in-place call — every gradient bucket — is a binomial tree at any
    /// size (reduce to rank 0, then broadcast), which sends each bucket over a link twice, one
    /// direction after the other, and leaves every sum to rank 0. The ring sends 2(p−1)/p of it,
    /// both directions at once, and spreads the sums. At 2 ranks the result is bit-identical
    /// (a + b = b + a); at more it changes the order of the additions. docs/DECISIONS.md has the evidence.
    public init() throws {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            setenv("OMPI_MCA_" + Self.iallreduceAlgorithmParameter, String(Self.ringIallreduce), 0)
            var provided: Int32 = 0
            let rc = MPI_Init_thread(nil, nil, sift_mpi_thread_funneled(), &provided)
            guard rc == sift_mpi_success() else { throw MPIError(call: "MPI_Init_thread", code: rc) }
        }
        comm = sift_mpi_comm_world()
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        size = Int(s)
    }

    /// The current value of an integer OpenMPI parameter in this process (MPI tool interface), or nil
    /// when OpenMPI has no such parameter.
    public func intParameter(_ name: String) -> Int? {
        var value: Int32 = 0
        return sift_mpi_int_parameter(name, &value) == 0 ? Int(value) : nil
    }

    /// True on rank 0, the rank that prints, writes checkpoints and metrics.
    public var isRoot: Bool { rank == 0 }

    /// Shuts MPI down; call once at the end of a successful run.
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        MPI_Finalize()
    }

    /// Shuts MPI down after an error this rank expects every rank to have met (one that follows a
    /// collective). MPI_Finalize waits for every rank, so if another rank has gone on without this one
    /// (the error was this rank's alone after all), it would wait forever: after `seconds`, `giveUp` is
    /// called (to say so) and the job is aborted with `code`.
    public func finalize(orAbortAfter seconds: Double, code: Int32, giveUp: @escaping @Sendable () -> Void) {
        guard !finalized else { return }
        guard size > 1 else { return finalize() }
        final class Finished: @unchecked Sendable {
            let lock = NSLock()
            var value = false
        }
        let finished = Finished()
        let timer = Thread { [self] in
            Thread.sleep(forTimeInterval: seconds)
            finished.lock.lock()
            let hung = !finished.value
            finished.lock.unlock()
            guard hung else { return }
            giveUp()
            abort(code: code)
        }
        timer.name = "sift-finalize-deadline"
        timer.start()
        finalize()
        finished.lock.lock()
        finished.value = true
        finished.lock.unlock()
    }

    /// Ends every rank of the job at once (after a fatal error on this rank), so that no other
    /// rank waits forever in a collective this rank will never join.
    public func abort(code: Int32 = 1) -> Never {
        MPI_Abort(comm, code)
        exit(code)
    }

    /// Blocks until every rank has reached the barrier.
    public func barrier() { check(MPI_Barrier(comm), "MPI_Barrier") }

    /// A barrier that sleeps between checks instead of spinning. OpenMPI's blocking calls busy-poll
    /// when ranks do not exceed cores, so ranks waiting in `barrier()` would take cores from a rank
    /// measuring alone (`sift bench`); waiting here costs a millisecond of latency instead.
    public func quietBarrier(pollInterval: Double = 0.001) {
        guard size > 1 else { return }
        var request: MPI_Request? = sift_mpi_request_null()
        check(MPI_Ibarrier(comm, &request), "MPI_Ibarrier")
        var flag: Int32 = 0
        while true {
            MPI_Test(&request, &flag, sift_mpi_status_ignore())
            if flag != 0 { return }
            usleep(useconds_t(pollInterval * 1e6))
        }
    }

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

    /// Gathers every rank's floats on every rank, in rank order. Ranks may contribute different counts.
    /// - Returns: the concatenation over ranks 0..<size.
    public func allgatherv(_ local: [Float]) -> [Float] {
        guard size > 1 else { return local }
        var counts = [Int32](repeating: 0, count: size)
        var mine = Int32(local.count)
        check(MPI_Allgather(&mine, 1, sift_mpi_int32(), &counts, 1, sift_mpi_int32(), comm), "MPI_Allgather")
        var displs = [Int32](repeating: 0, count: size)
        for i in 1..<size { displs[i] = displs[i - 1] + counts[i - 1] }
        let total = Int(displs[size - 1] + counts[size - 1])
        var out = [Float](repeating: 0, count: total)
        local.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                check(
                    MPI_Allgatherv(
                        src.baseAddress, mine, sift_mpi_float(), dst.baseAddress, counts, displs,
                        sift_mpi_float(), comm), "MPI_Allgatherv")
            }
        }
        return out
    }

    /// Gathers every rank's bytes on every rank, in rank order, when the counts are known everywhere
    /// (no count exchange first, unlike the float `allgatherv`).
    public func allgatherv(bytes local: [UInt8], counts: [Int]) -> [UInt8] {
        guard size > 1 else { return local }
        precondition(counts.count == size && local.count == counts[rank], "byte counts disagree with this rank's bytes")
        let n = counts.map { Int32($0) }
        var displs = [Int32](repeating: 0, count: size)
        for i in 1..<size { displs[i] = displs[i - 1] + n[i - 1] }
        var out = [UInt8](repeating: 0, count: counts.reduce(0, +))
        local.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                check(
                    MPI_Allgatherv(
                        src.baseAddress, n[rank], sift_mpi_byte(), dst.baseAddress, n, displs,
                        sift_mpi_byte(), comm), "MPI_Allgatherv")
            }
        }
        return out
    }

    /// Gathers one UInt64 from every rank on every rank (for replica checksums).
    public func allgather(_ value: UInt64) -> [UInt64] {
        guard size > 1 else { return [value] }
        var mine = value
        var out = [UInt64](repeating: 0, count: size)
        check(MPI_Allgather(&mine, 1, sift_mpi_uint64(), &out, 1, sift_mpi_uint64(), comm), "MPI_Allgather")
        return out
    }

    /// Broadcasts `count` floats from `root` to every rank, in chunks below MPI's Int32 count limit.
    public func broadcast(_ data: UnsafeMutablePointer<Float>, count: Int, root: Int = 0) {
        guard size > 1 else { return }
        var done = 0
        while done < count {
            let n = min(count - done, 1 << 28)
            check(MPI_Bcast(data + done, Int32(n), sift_mpi_float(), Int32(root), comm), "MPI_Bcast")
            done += n
        }
    }

    /// Broadcasts a byte string from `root`; other ranks pass anything and receive root's bytes.
    public func broadcast(_ bytes: [UInt8], root: Int = 0) -> [UInt8] {
        guard size > 1 else { return bytes }
        var n = Int64(bytes.count)
        check(MPI_Bcast(&n, 1, sift_mpi_int64(), Int32(root), comm), "MPI_Bcast")
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(n))
        out.withUnsafeMutableBufferPointer { buf in
            check(MPI_Bcast(buf.baseAddress, Int32(n), sift_mpi_byte(), Int32(root), comm), "MPI_Bcast")
        }
        return out
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

    private func check(_ rc: Int32, _ call: String) {
        if rc != sift_mpi_success() {
            StandardError.line("error: rank \(rank): MPI call \(call) failed with code \(rc)")
            abort(code: ExitStatus.mpiFailed.rawValue)
        }
    }
}

extension Communicator: RankMessaging {
    /// Starts an `MPI_Isend` of `bytes` (kept alive by the handle until the send completes).
    public func startSend(_ bytes: [UInt8], to: Int, tag: Int32) -> PendingSend {
        let pending = PendingByteSend(bytes)
        pending.bytes.withUnsafeBufferPointer { buf in
            check(
                MPI_Isend(buf.baseAddress, Int32(buf.count), sift_mpi_byte(), Int32(to), tag, comm, &pending.request),
                "MPI_Isend")
        }
        return pending
    }

    public func hasMessage(from: Int, tag: Int32) -> Bool {
        var flag: Int32 = 0
        var status = MPI_Status()
        check(MPI_Iprobe(Int32(from), tag, comm, &flag, &status), "MPI_Iprobe")
        return flag != 0
    }

    /// Polls with `MPI_Iprobe` and sleeps between polls (a blocking receive would spin a core the
    /// rank's worker threads need), then receives the message whole.
    public func receive(from: Int, tag: Int32) -> [UInt8] {
        var flag: Int32 = 0
        var status = MPI_Status()
        while true {
            check(MPI_Iprobe(Int32(from), tag, comm, &flag, &status), "MPI_Iprobe")
            if flag != 0 { break }
            usleep(200)
        }
        var count: Int32 = 0
        MPI_Get_count(&status, sift_mpi_byte(), &count)
        var out = [UInt8](repeating: 0, count: Int(count))
        out.withUnsafeMutableBufferPointer { buf in
            check(
                MPI_Recv(buf.baseAddress, count, sift_mpi_byte(), Int32(from), tag, comm, sift_mpi_status_ignore()),
                "MPI_Recv")
        }
        return out
    }
}

/// An `MPI_Isend` in flight with its buffer.
final class PendingByteSend: PendingSend {
    let bytes: [UInt8]
    var request: MPI_Request? = sift_mpi_request_null()
    private var done = false

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func isComplete() -> Bool {
        guard !done else { return true }
        var flag: Int32 = 0
        MPI_Test(&request, &flag, sift_mpi_status_ignore())
        done = flag != 0
        return done
    }
}

/// A non-blocking collective in flight. OpenMPI progresses it only inside MPI calls, so callers
/// `poll()` it between pieces of computation and `wait()` for it at the end.
public final class PendingReduction {
    var request: MPI_Request? = sift_mpi_request_null()
    var active = false

    init() {}

    /// True once the operation has completed (drives MPI's progress engine as a side effect).
    @discardableResult
    public func poll() -> Bool {
        guard active else { return true }
        var flag: Int32 = 0
        MPI_Test(&request, &flag, sift_mpi_status_ignore())
        if flag != 0 { active = false }
        return !active
    }

    /// Blocks until the operation has completed.
    public func wait() {
        guard active else { return }
        MPI_Wait(&request, sift_mpi_status_ignore())
        active = false
    }
}
