/// The exit status of every `sift` command, in one table (docs/RELIABILITY.md, "Exit statuses", shows it).
///
/// A launcher restarts a job only when `restartable` says a relaunch may succeed: a failure at run
/// time, an MPI error, a stalled or lost rank (and a rank killed by a signal, 128 + the signal's
/// number, other than a crash that would recur: SIGILL and SIGTRAP from a Swift trap, SIGABRT).
/// Bad input, bad flags and a preemption end the job for good (`launch/mpirun.sh` reads this table).
public enum ExitStatus: Int32, CaseIterable, Sendable {
    /// The command did what it was asked.
    case done = 0
    /// A failure while running: a write that failed, a diverged run, a checkpoint that could not be saved,
    /// an error on one rank that aborted the job.
    case failed = 1
    /// Bad input or data found after the flags were parsed: a missing or damaged file, a dataset,
    /// model or checkpoint that does not fit the run, an output path that cannot be written, a CPU
    /// without the instructions the build needs.
    case badInput = 2
    /// An MPI call failed; the job was aborted.
    case mpiFailed = 3
    /// The watchdog aborted the job: a rank stalled or its host was lost.
    case stalled = 4
    /// Bad flags (ArgumentParser's status, EX_USAGE).
    case usage = 64
    /// Stopped by a signal (SIGINT, SIGTERM, SIGUSR1) after every rank wrote a checkpoint; continue
    /// with `--resume` (EX_TEMPFAIL).
    case preempted = 75

    /// What the status means, in a few words.
    public var meaning: String {
        switch self {
        case .done: return "done"
        case .failed: return "failed while running"
        case .badInput: return "bad input or data"
        case .mpiFailed: return "an MPI call failed (job aborted)"
        case .stalled: return "a rank stalled or was lost (watchdog; job aborted)"
        case .usage: return "bad flags (usage)"
        case .preempted: return "preempted: checkpoint written, continue with --resume"
        }
    }

    /// Whether relaunching the job can help (a launcher's `--max-restarts`).
    public var restartable: Bool {
        switch self {
        case .failed, .mpiFailed, .stalled: return true
        case .done, .badInput, .usage, .preempted: return false
        }
    }

    /// Statuses of a rank killed by a signal (128 + N) that a relaunch would meet again: SIGILL (132)
    /// and SIGTRAP (133) from a Swift trap, SIGABRT (134) from a failed check.
    public static let deterministicCrashes: [Int32] = [132, 133, 134]
}
