import ArgumentParser
import Core
import Foundation

/// Writes one line to standard error (the CLI's name for `StandardError.line`).
func printError(_ line: String) { StandardError.line(line) }

/// Writes one line to standard error (warnings and progress notes of `vocab` and `prepare`).
func warnLine(_ line: String) { StandardError.line(line) }

/// A failure the command cannot continue from, rendered by `Sift.main` as one `error: …` line, with
/// the exit status: 1 for failures, 2 for bad input found after argument parsing. Thrown (not
/// `exit()`ed) so `defer` blocks such as temporary-file cleanup run.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    let code: Int32
    init(_ description: String, code: Int32 = 1) {
        self.description = description
        self.code = code
    }
}

/// The name `vocab`, `tokenize` and `prepare` use for a `CommandFailure` with status 1.
typealias ExitMessage = CommandFailure

