import CMPI

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
