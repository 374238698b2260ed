import ArgumentParser
import Core
import Foundation

/// The `sift` command-line tool: a distributed BERT pretrainer that backpropagates only the
/// samples with the largest approximate (early-exit) losses.
@main
struct Sift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sift",
        abstract: "Distributed BERT pretraining with SIFT (sampling with approximate losses) over MPI.",
        subcommands: [
            TokenizeCommand.self, VocabCommand.self, PrepareCommand.self, TrainCommand.self,
            ScoreCommand.self, AdviseCommand.self, SummaryCommand.self, ExportCommand.self, ImportCommand.self, BenchCommand.self,
            ProjectCommand.self,
            DebugSelectCommand.self, ScalingSummaryCommand.self
        ])

    /// Runs the command; every failure becomes one `error: …` line on standard error and the exit
    /// status of the one table, `ExitStatus` (64 for bad flags, as ArgumentParser does), with no usage
    /// dump that would bury it.
    static func main() {
        refuseAnUnsupportedCPU()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if let failure = error as? CommandFailure {
                printError("error: \(failure.description)")
                Foundation.exit(failure.status.rawValue)
            }
            // --help, --version and an exit status already decided (ExitCode) pass through.
            if exitCode(for: error) == .success || error is ExitCode { exit(withError: error) }
            let message = Sift.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            printError("error: \(message)")
            Foundation.exit(exitStatus(for: error).rawValue)
        }
    }

    /// Exits with one line if the compute modules were compiled for instructions this CPU lacks
    /// (this function and Core are compiled generic, so it runs before any such instruction could).
    static func refuseAnUnsupportedCPU() {
        #if SIFT_TARGET_HASWELL
            guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return }
            if let line = CPUFeatures.refusal(target: "haswell", missing: CPUFeatures.missing(CPUFeatures.haswell, cpuinfo: info)) {
                printError("error: \(line)")
                Foundation.exit(ExitStatus.badInput.rawValue)
            }
        #endif
    }
}
