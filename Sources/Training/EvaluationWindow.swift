/// A stretch of steps evaluated more often than `--eval-every`: every `every` steps from `from` to `to`
/// (inclusive). Measuring when a curve crosses a target needs dense evaluations only near the crossing.
public struct EvaluationWindow: Equatable, Sendable {
    public let from: Int
    public let to: Int
    public let every: Int

    public init(from: Int, to: Int, every: Int) {
        self.from = from
        self.to = to
        self.every = every
    }

    /// Parses `FROM-TO:EVERY` (e.g. `6500-8000:25`), or says why the text is not that.
    public static func parse(_ text: String) -> Result<EvaluationWindow, WindowError> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let range = parts.first?.split(separator: "-", omittingEmptySubsequences: false) ?? []
        guard parts.count == 2, range.count == 2, let from = Int(range[0]), let to = Int(range[1]),
            let every = Int(parts[1])
        else {
            return .failure(WindowError(message: "'\(text)' is not FROM-TO:EVERY (e.g. 6500-8000:25)"))
        }
        guard from >= 1, to >= from, every >= 1 else {
            return .failure(WindowError(message: "'\(text)' needs 1 ≤ FROM ≤ TO and EVERY ≥ 1"))
        }
        return .success(EvaluationWindow(from: from, to: to, every: every))
    }

    /// Whether `step` falls on this window's grid (counted from `from`).
    public func contains(step: Int) -> Bool {
        step >= from && step <= to && (step - from) % every == 0
    }

    /// Why a window's text was refused.
    public struct WindowError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}

extension TrainingOptions {
    /// Whether the loop evaluates after `step`: on the `--eval-every` grid or in an `--eval-dense` window.
    public func evaluates(atStep step: Int) -> Bool {
        (evalEvery > 0 && step % evalEvery == 0) || evalWindows.contains { $0.contains(step: step) }
    }
}
