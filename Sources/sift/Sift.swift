import ArgumentParser

/// The `sift` command-line tool: a distributed BERT pretrainer that backpropagates only the
/// samples with the largest approximate (early-exit) losses.
@main
struct Sift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sift",
        abstract: "Distributed BERT pretraining with SIFT (sampling with approximate losses) over MPI.",
        subcommands: [TokenizeCommand.self, VocabCommand.self, PrepareCommand.self, TrainCommand.self,
                      ScoreCommand.self, ExportCommand.self, ImportCommand.self, BenchCommand.self,
                      DebugSelectCommand.self])
}
