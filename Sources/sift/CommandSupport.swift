import ArgumentParser
import Core
import Data
import Foundation
import Interop
import Model
import Setup
import Training

/// Writes one line to standard error: `error: …` and `warning: …` lines and progress notes.
func printError(_ line: String) { StandardError.line(line) }

/// A failure the command cannot continue from, rendered by `Sift.main` as one `error: …` line, with
/// its exit status (`ExitStatus`: `.failed` for failures, `.badInput` for bad input found after
/// argument parsing). Thrown (not `exit()`ed) so `defer` blocks such as temporary-file cleanup run.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    let status: ExitStatus
    init(_ description: String, status: ExitStatus = .failed) {
        self.description = description
        self.status = status
    }
    /// A library error as a failure, with the status `exitStatus(for:)` gives it.
    init(_ error: Error) { self.init("\(error)", status: exitStatus(for: error)) }
}

/// The exit status of an error that ends a command (the one table is `ExitStatus`): bad input or data
/// (a file, dataset, model or checkpoint that cannot be used) is `.badInput`; a failure while running
/// (a write, a diverged run, an MPI error) is `.failed`; bad flags are `.usage`.
func exitStatus(for error: Error) -> ExitStatus {
    switch error {
    case let e as CommandFailure: return e.status
    case let e as DataError:
        return DatasetPreparer.isFailure(e) ? .failed : .badInput
    case is SetupError, is ModelSourceError, is HuggingFaceError, is SafetensorsError, is CheckpointError,
        is RunSummaryError, is ReportError, is BatchError:
        return .badInput
    case is EvaluationWindow.WindowError, is ValidationError: return .usage
    default:
        return Sift.exitCode(for: error) == .validationFailure ? .usage : .failed
    }
}
