import CMPI
import Core
import Foundation

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
    let comm: MPI_Comm
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

    /// Ends the job when an MPI call failed: every MPI error is fatal to every rank.
    func check(_ rc: Int32, _ call: String) {
        if rc != sift_mpi_success() {
            StandardError.line("error: rank \(rank): MPI call \(call) failed with code \(rc)")
            abort(code: ExitStatus.mpiFailed.rawValue)
        }
    }
}
