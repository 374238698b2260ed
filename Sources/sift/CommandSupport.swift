import ArgumentParser
import Core
import Foundation

/// Writes one line to standard error: `error: …` and `warning: …` lines and progress notes.
func printError(_ line: String) { StandardError.line(line) }

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

