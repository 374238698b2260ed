import Core
import Data
import Foundation

/// Progress through a long corpus (`sift prepare` on rank 0, `sift vocab`): bytes done in corpus order, rate
/// and ETA, on a live bar or as plain lines (`SIFT_PROGRESS`, like `sift train`). Nothing is shown in the
/// first seconds, so short inputs print only their summary.
final class CorpusProgressLine {
    /// Seconds before the first line, and between plain lines.
    static let quietSeconds = 5.0
    static let plainEvery = 10.0
    private let line: LiveLine
    private let start: Date
    private var lastShown: Date? = nil
    private let label: String

    /// `label` starts the line (the command's name); `output` receives finished lines.
    init(enabled: Bool, start: Date, label: String = "prepare") {
        line = LiveLine(enabled: enabled) { text in
            print(text)
            fflush(stdout)
        }
        self.start = start
        self.label = label
    }

    func update(_ p: CorpusProgress) {
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed >= Self.quietSeconds, p.chunksDone < p.chunks else { return }
        let every = line.live ? 0.5 : Self.plainEvery
        if let last = lastShown, now.timeIntervalSince(last) < every { return }
        guard line.wants(force: true) else { return }
        lastShown = now
        let rate = Double(p.bytesDone) / elapsed
        let remaining = rate > 0 ? Double(p.totalBytes - p.bytesDone) / rate : 0
        let text =
            label
            + String(
                format: ": %.1f/%.1f MB (%.0f%%) | %.1f MB/s | ETA ", Double(p.bytesDone) / 1e6,
                Double(p.totalBytes) / 1e6, 100 * Double(p.bytesDone) / Double(max(1, p.totalBytes)), rate / 1e6)
            + formatDuration(remaining)
        line.show(text, step: p.bytesDone, of: p.totalBytes)
    }

    func finish() { line.finish() }
}
