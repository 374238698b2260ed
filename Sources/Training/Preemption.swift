import Core

#if canImport(Glibc)
    import Glibc
#endif

/// Set from a signal handler when the scheduler asks the job to stop (SIGTERM, SIGINT, SIGUSR1).
/// A plain global written once by the handler and read between steps; `sig_atomic_t`-sized.
nonisolated(unsafe) private var preemptionSignal: Int32 = 0

/// Graceful preemption: SLURM (`--signal=USR1@120`, or SIGTERM at the time limit), Kubernetes and
/// `mpirun` (which forwards SIGUSR1 to every rank) announce a stop some seconds before they kill the job.
/// The trainer checks `requested` at every step boundary through a collective every rank already
/// makes, so all ranks finish the same step, write one checkpoint and exit with `exitCode`.
public enum Preemption {
    /// The exit status of a preempted run (EX_TEMPFAIL: try again, with `--resume`).
    public static let exitCode: Int32 = ExitStatus.preempted.rawValue

    /// Installs the handlers for SIGTERM, SIGINT and SIGUSR1 (restarting interrupted system calls, so
    /// MPI and file I/O are not disturbed). A second signal while the checkpoint is written changes
    /// nothing: the flag is already set and the checkpoint is written to a temporary file and renamed.
    public static func install() {
        for sig in [SIGTERM, SIGINT, SIGUSR1] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in preemptionSignal = number }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(sig, &action, nil)
        }
    }

    /// The signal received on this rank, or 0.
    public static var requested: Int32 { preemptionSignal }

    /// For tests: forget a received signal.
    public static func reset() { preemptionSignal = 0 }
}
