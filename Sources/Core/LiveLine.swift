import Foundation

/// A status line on standard output: redrawn in place with a progress bar on a terminal, or printed
/// as plain lines (through `output`) in a log. Owns the ANSI escapes and the terminal check.
public final class LiveLine {
    private let enabled: Bool
    private let output: (String) -> Void
    /// Whether lines are redrawn in place (a terminal) rather than appended (a log).
    public let live: Bool
    private var drawn = false

    /// - Parameters:
    ///   - enabled: false on every rank but 0; nothing is shown then.
    ///   - output: where plain lines go.
    public init(enabled: Bool, output: @escaping (String) -> Void) {
        self.enabled = enabled
        self.output = output
        // mpirun hands ranks a pseudo-terminal even when its own output is a file, so the launcher
        // says which it is through SIFT_PROGRESS (bar or plain); without it, ask the terminal.
        switch ProcessInfo.processInfo.environment["SIFT_PROGRESS"] {
        case "bar": live = enabled
        case "plain": live = false
        default: live = enabled && isatty(STDOUT_FILENO) != 0
        }
    }

    /// Whether `show` would display anything now (`force` for lines a log must get).
    public func wants(force: Bool) -> Bool { enabled && (live || force) }

    /// Shows `line` behind a bar of `step` out of `total` (empty while `total` is 0, unknown) when
    /// live, else as a plain line.
    public func show(_ line: String, step: Int, of total: Int) {
        guard enabled else { return }
        if live {
            let width = 30, filled = total > 0 ? width * min(step, total) / total : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            print("\r[\(bar)] \(line)\u{1B}[K", terminator: "")
            fflush(stdout)
            drawn = true
        } else {
            output(line)
        }
    }

    /// Ends a redrawn line so later output starts on a fresh one.
    public func finish() {
        if drawn {
            print("")
            drawn = false
        }
    }
}

/// "1h02m", "3m05s" or "12s".
public func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}
