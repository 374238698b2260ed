import Foundation

/// Writes one line to standard error.
func printError(_ line: String) {
    FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
}

/// Prints `error: message` on one line and exits with `code` (1 for failures, 2 for bad input found
/// after argument parsing), so launchers and scripts can tell failures apart without a Swift trap.
func fail(_ message: String, code: Int32 = 1) -> Never {
    printError("error: \(message)")
    exit(code)
}
