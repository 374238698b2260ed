import Communication
import Core
import Foundation

/// Ends the job when this rank stops making progress, instead of letting it hang forever.
///
/// The training loop reports each phase it enters (`enter`). A background thread checks every
/// second how long the current phase has lasted; past `timeout` it prints which rank, phase and
/// step stalled and calls `abort` (MPI_Abort, which ends every rank). A phase that is a collective
/// says so in the message: the rank waiting there is usually not the culprit, but a rank stuck in
/// local work (or calling a different collective) is — the stuck rank's own watchdog, having
/// entered its phase first, normally fires first. Compare Horovod's stall check.
///
/// With `peers`, a collective that has waited `probeAfter` seconds (10, or half the timeout if that is
/// shorter) makes the watchdog ask every other rank's host whether it still answers (every 5 s); a
/// silent one is a lost rank, and the watchdog aborts at once with a message naming its rank and host,
/// instead of waiting out the full timeout.
public final class Watchdog: @unchecked Sendable {
    /// A phase of the training step, and whether it waits for other ranks.
    public enum Phase: String, Sendable {
        case data, scoring, selection, forwardBackward = "forward+backward", allreduce, optimizer
        case evaluation, checkpoint, synchronisation

        var isCollective: Bool {
            switch self {
            case .selection, .allreduce, .synchronisation: return true
            default: return false
            }
        }
    }

    private let timeout: Double
    private let rank: Int
    private let abort: () -> Never
    private let peers: PeerProbe?
    private var lastProbe = Date.distantPast
    private let lock = NSLock()
    private var phase: Phase = .synchronisation
    private var step = 0
    private var since = Date()
    private var running = true

    /// - Parameters:
    ///   - timeout: seconds one phase may last.
    ///   - peers: the other ranks' hosts, to name a lost one (nil: do not probe).
    ///   - abort: ends the job (must not return).
    public init(timeout: Double, rank: Int, peers: PeerProbe? = nil, abort: @escaping () -> Never) {
        self.timeout = timeout
        self.rank = rank
        self.peers = peers
        self.abort = abort
        let thread = Thread { [weak self] in self?.watch() }
        thread.name = "sift-watchdog"
        thread.start()
    }

    /// Records that this rank entered `phase` of optimizer step `step` (1-based) now.
    public func enter(_ phase: Phase, step: Int) {
        lock.lock()
        self.phase = phase
        self.step = step
        since = Date()
        lock.unlock()
    }

    /// Stops watching (at the end of training).
    public func stop() {
        lock.lock()
        running = false
        lock.unlock()
    }

    /// Whether the watchdog still counts (false once `stop` was called).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return running
    }

    private func watch() {
        while true {
            Thread.sleep(forTimeInterval: min(1, timeout / 4))
            lock.lock()
            let (alive, phase, step, waited) = (running, self.phase, self.step, Date().timeIntervalSince(since))
            lock.unlock()
            if !alive { return }
            if let peers, phase.isCollective, waited > min(10, timeout / 2), Date().timeIntervalSince(lastProbe) >= 5 {
                lastProbe = Date()
                let silent = peers.silentPeers(timeout: 3)
                if !silent.isEmpty {
                    let me = PeerProbe.describe(peers.peers[rank])
                    for s in silent {
                        StandardError.line(
                            String(
                                format: "error: watchdog: %@ lost %@: %@; waited %.0f s in phase '%@' of step %d; aborting the job\n",
                                me, PeerProbe.describe(s.peer), s.reason, waited, phase.rawValue, step))
                    }
                    abort()
                }
            }
            if waited > timeout {
                let why =
                    phase.isCollective
                    ? "waiting in a collective: another rank is stuck, died, or is calling a different collective"
                    : "no progress in local work"
                let line = String(
                    format:
                        "error: watchdog: rank %d stalled for %.0f s in phase '%@' of step %d (%@); aborting the job (--watchdog-seconds %.0f)\n",
                    rank, waited, phase.rawValue, step, why, timeout)
                StandardError.line(line)
                abort()
            }
        }
    }
}
