import ArgumentParser
import Bench
import Communication
import Core
import Data
import Foundation
import Interop
import Model
import Setup
import Training

/// `sift bench`: the machine's limits, training-step throughput and SIFT's scoring overhead per model
/// size, and allreduce bandwidth against the ring bound, as tables and JSON (`Bench.Bench`).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure memory bandwidth, sgemm GFLOP/s, training-step throughput, SIFT's scoring overhead and allreduce bandwidth.",
        discussion: """
            FLOPs count matrix products only (2·m·n·k each): the encoder's projections, attention scores and \
            context, the feed-forward layers, and the MLM head on masked positions only; backward counts twice \
            the forward's products. Softmax, LayerNorm, GELU, dropout and the optimizer are not counted. \
            The counts are dense-equivalent (every layer at every position); the engine runs the last layer \
            at the masked positions only, and the step section also times the vanilla step with that layer \
            at every position and reports both step times and both FLOP counts. \
            Model FLOPs utilisation (MFU) divides a step's achieved GFLOP/s by the best sgemm rate measured \
            under the same conditions (this rank's OpenBLAS threads, all ranks at once). Steps are the \
            trainer's own (`sift train`'s code path on synthetic data): a vanilla step backpropagates b samples \
            per rank and applies AdamW; a SIFT step also scores b/ρ candidates per rank at the exit layer and \
            agrees on the selection. Under launch/mpirun.sh with 2+ ranks the steps include the gradient \
            allreduce, and the allreduce is also measured alone; the slowest rank is reported.
            """)

    @Option(help: ArgumentHelp("Comma-separated model sizes (\(BertConfig.sizeNames))."))
    var configs: String = BenchPlan.defaultConfigs.joined(separator: ",")
    @OptionGroup var shape: StepShapeOptions
    @Option(
        help: """
            Comma-separated exit layers for the SIFT step: numbers or 'mid' (half the layers, at least 2); \
            clamped to the model's layers.
            """)
    var exitLayers: String = "1,mid"
    @Option(
        help: """
            Comma-separated masked positions a SIFT candidate is scored from (0: all, sift train's default; see \
            sift train --score-positions); one SIFT row per value.
            """)
    var scorePositions: String = "0"
    @Option(
        help: """
            Comma-separated on/off: whether the SIFT step's training forward resumes from the scoring forward \
            (on: sift train's default; see sift train --reuse-scoring-forward); one SIFT row per value.
            """)
    var reuseScoringForward: String = "on"
    @Option(
        help: """
            Comma-separated classes the SIFT scoring head computes (0: the whole vocabulary; see sift train \
            --score-vocabulary, whose default with --data is \(TrainingOptions.defaultScoreVocabulary)); one \
            SIFT row per value. The step section's synthetic data makes the K lowest token ids the most \
            frequent.
            """)
    var scoreVocabularies: String = "0,\(TrainingOptions.defaultScoreVocabulary)"
    @Option(help: "Timed repetitions per measurement (after one warm-up); the median is reported.")
    var repeats: Int = 3
    @Option(
        help: """
            Comma-separated sections to run: memory, sgemm, step, allreduce, and (only when named) profile: the \
            vanilla step's time per kernel.
            """)
    var only: String = BenchPlan.sectionNames.joined(separator: ",")
    @Option(help: "Comma-separated OpenBLAS thread counts for the sgemm table (default: 1 up to the cores).")
    var threads: String?
    @Option(help: "The fidelity section's trained model: a HuggingFace-format directory, a checkpoint file or a checkpoint directory.")
    var model: String?
    @Option(
        help: """
            The fidelity section's data: a dataset directory written by `sift prepare` (its training split, \
            masked as sift train masks it).
            """)
    var data: String?
    @Option(help: "Pools of b/ρ candidates the fidelity section ranks (b = sift train's default batch).")
    var fidelityPools: Int = 20
    @Flag(help: "A run under two minutes: tiny, mini and base (b = 16, 4 for base), two repetitions.")
    var quick = false
    @OptionGroup var output: JSONOutputOptions

    func validate() throws {
        for c in configs.split(separator: ",") where BertConfig.named(String(c), vocabSize: shape.vocabSize) == nil {
            throw ValidationError("unknown model size '\(c)' (expected one of \(BertConfig.sizeNames))")
        }
        guard repeats >= 1 else { throw ValidationError("--repeats must be positive") }
        for e in exitLayers.split(separator: ",") where e != "mid" && (Int(e) ?? 0) < 1 {
            throw ValidationError("--exit-layers: '\(e)' is not a positive layer number or 'mid'")
        }
        for k in scorePositions.split(separator: ",") where (Int(k) ?? -1) < 0 {
            throw ValidationError("--score-positions: '\(k)' is not a non-negative number")
        }
        for k in scoreVocabularies.split(separator: ",") where (Int(k) ?? -1) < 0 {
            throw ValidationError("--score-vocabularies: '\(k)' is not a non-negative number")
        }
        for r in reuseScoringForward.split(separator: ",") where r != "on" && r != "off" {
            throw ValidationError("--reuse-scoring-forward: '\(r)' is neither on nor off")
        }
        let known = BenchPlan.sectionNames + BenchPlan.optionalSectionNames
        for s in only.split(separator: ",") where !known.contains(String(s)) {
            throw ValidationError("--only: unknown section '\(s)' (expected \(known.joined(separator: ", ")))")
        }
        if only.split(separator: ",").contains("fidelity") && (model == nil || data == nil) {
            throw ValidationError("--only fidelity needs --model (a trained model) and --data (a dataset written by sift prepare)")
        }
        guard fidelityPools >= 1 else { throw ValidationError("--fidelity-pools must be positive (got \(fidelityPools))") }
        if let threads, threads.split(separator: ",").contains(where: { (Int($0) ?? 0) < 1 }) {
            throw ValidationError("--threads must be a comma-separated list of positive integers")
        }
    }

    func run() throws {
        let plan = BenchPlan(
            configs: configs.split(separator: ",").map(String.init), vocabSize: shape.vocabSize,
            seqLen: shape.seqLen, batchSize: shape.batchSize, selectFraction: shape.selectFraction,
            exitLayers: exitLayers, scorePositions: scorePositions.split(separator: ",").compactMap { Int($0) },
            reuse: reuseScoringForward.split(separator: ",").map { $0 == "on" },
            scoreVocabularies: scoreVocabularies.split(separator: ",").compactMap { Int($0) },
            repeats: repeats, sections: only.split(separator: ",").map(String.init),
            threads: threads.map { $0.split(separator: ",").compactMap { Int($0) } }, quick: quick)
        // Loaded before MPI starts, so bad input stops every rank with its own message and no collective waits.
        var source: FidelitySource?
        if plan.sections.contains("fidelity") {
            do {
                source = try FidelitySource.load(
                    model: model!, data: data!, pools: fidelityPools,
                    withReference: plan.scoreVocabularies.contains { $0 > 0 })
            } catch { throw CommandFailure("\(error)", status: .badInput) }
            source!.warnings.forEach { printError("warning: \($0)") }
        }
        let comm = try Communicator()
        defer { comm.finalize() }
        let say: (String) -> Void = {
            if comm.isRoot {
                print($0)
                fflush(stdout)
            }
        }
        var bench = Bench(plan: plan, communicator: comm, say: say)
        bench.fidelitySource = source
        let report = try bench.run()
        if comm.isRoot, let json = output.json {
            try JSONCoding.write(report, to: json)
            say("\nwrote \(json)")
        }
    }
}
