import Analysis
import ArgumentParser
import Core
import Foundation
import Model

/// `sift scaling-summary` (hidden, for launch/scaling.sh): reads the runs' metrics files and the bench
/// measurement in DIR, writes DIR/scaling.json and prints the Markdown table.
struct ScalingSummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling-summary", abstract: "Summarise launch/scaling.sh's runs into DIR/scaling.json.", shouldDisplay: false)

    @Option(help: "Directory of the runs (MODE-POLICY-pP.jsonl) and machine.json.") var out: String
    @Option(help: "Model size of the runs.") var config: String
    @Option(help: "Vocabulary size.") var vocabSize: Int
    @Option(help: "Cores of this machine.") var cores: Int
    @Option(help: "Optimizer steps per run (the first is not timed).") var steps: Int
    @Option(help: "Weak scaling: samples per rank per step.") var perRankBatch: Int
    @Option(help: "Strong scaling: samples per step.") var globalBatch: Int
    @Option(help: "Space-separated rank counts (must include 1).") var ranks: String
    @Option(help: "Selection fraction ρ the runs were given (sift train --select-fraction).") var selectFraction: Double

    func run() throws {
        let summary = ScalingLogReader(
            directory: out, config: config, vocabSize: vocabSize, cores: cores, steps: steps,
            perRankBatch: perRankBatch, globalBatch: globalBatch,
            ranks: ranks.split(separator: " ").compactMap { Int($0) }, selectFraction: selectFraction)
        let measurements = try summary.measurements()
        let path = (out as NSString).appendingPathComponent("scaling.json")
        try JSONCoding.write(measurements, to: path)
        print(ScalingLogReader.markdown(measurements))
        print("\nwrote \(path)")
    }
}
