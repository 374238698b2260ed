import ArgumentParser
import Communication
import Data
import Foundation
import Interop
import Kernels
import Model
import Selection
import Training

/// `sift train`: data-parallel BERT pretraining with SIFT over MPI.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pretrain BERT with masked-language modelling, backpropagating only the samples SIFT selects.",
        discussion: """
        Run under mpirun (launch/mpirun.sh sets threads, oversubscription and root variables): every rank \
        holds a replica of the model and scores its share of each step's candidate pool with the early-exit \
        loss at --exit-layer; ranks agree on the global top --batch-size candidates, backpropagate them and \
        sum gradients. With a fixed --seed the selected samples and the weights do not depend on the number \
        of ranks. Without mpirun it runs as a single rank.
        """)

    @Option(help: "Model size (tiny, mini, small, medium, base) or a HuggingFace config.json path.")
    var config: String = "mini"
    @Option(help: "Dataset directory written by `sift prepare`.")
    var data: String?
    @Option(help: "Pre-masked JSON Lines training samples (instead of --data).")
    var trainJsonl: String?
    @Option(help: "Pre-masked JSON Lines validation samples (with --train-jsonl).")
    var validationJsonl: String?
    @Option(help: "Vocabulary file (default: the dataset's vocab.txt).")
    var vocab: String?
    @Option(help: "Sequence length; must match the dataset if given.")
    var seqLen: Int?
    @Option(help: "Samples backpropagated per optimizer step over all ranks (b).")
    var batchSize: Int = 32
    @OptionGroup(title: "Selection")
    var selection: SelectionFlags
    @Option(help: "Train on a fixed subset of this many training sequences (chosen by a hash independent of --seed).")
    var trainSubset: Int?
    // .unconditional: a negative value reaches validation (and its message) instead of reading as a flag.
    @Option(parsing: .unconditional, help: ArgumentHelp("Masks repeat every this many epochs (BERT's dupe_factor); 1: static masks, each sample keeps its mask on every visit; 0: new masks every epoch.", discussion: "A resumed run must be given the same value."))
    var maskCycle: Int = 0
    @Option(help: "Largest number of samples per forward/backward call on a rank (gradient accumulation beyond it).")
    var microBatch: Int = 32
    @Option(help: "Peak learning rate.")
    var lr: Float = 1e-3
    @Option(help: "Linear warm-up steps.")
    var warmup: Int = 100
    @Option(help: "AdamW decoupled weight decay (not on biases and LayerNorm).")
    var weightDecay: Float = 0.01
    @Option(help: "Global gradient-norm clipping threshold.")
    var clipNorm: Float = 1.0
    @Option(help: "Dropout probability (hidden and attention).")
    var dropout: Float = 0.1
    @Option(help: "Seed of every random choice (initialisation, data order, masks, dropout, sampling).")
    var seed: UInt64 = 1234
    @Option(help: "Optimizer steps (also the length of the learning-rate schedule). Default 1000; with --time-budget and no --steps, the schedule's length is fitted to the budget after 10 timed steps past the warm-up and sifting delay, and re-fitted every --schedule-refit-every steps, so the learning rate reaches 0 as the budget ends.")
    var steps: Int?
    @Option(help: "Stop with a checkpoint at this step, keeping the --steps schedule (continue later with --resume).")
    var stopAfter: Int?
    @Option(help: "Stop after this many seconds of training (evaluation and fidelity checks are off the clock).")
    var timeBudget: Double?
    @Option(help: "With --time-budget and no --steps: re-fit the schedule's end every this many steps from the mean step time since the last fit, the rate decaying linearly from its current value (0: fit once).")
    var scheduleRefitEvery: Int = TrainingOptions().scheduleRefitEvery
    @Option(help: "Stop when validation accuracy reaches this fraction (e.g. 0.3).")
    var targetAccuracy: Double?
    @Option(help: "Evaluate every this many steps (0: only at the end).")
    var evalEvery: Int = 100
    @Option(help: "Validation samples evaluated (0: all).")
    var evalSamples: Int = 512
    @Option(help: "Directory for checkpoints.")
    var checkpointDir: String?
    @Option(help: "Checkpoint every this many steps (0: only at the end).")
    var checkpointEvery: Int = 0
    @Option(help: "Checkpoints kept.")
    var keepCheckpoints: Int = 3
    @Flag(help: "Continue from the newest valid checkpoint in --checkpoint-dir.")
    var resume = false
    @Option(help: "Initialise from a HuggingFace BERT directory (config.json + model.safetensors).")
    var initFrom: String?
    @Option(help: "JSON Lines file for per-step metrics.")
    var metrics: String?
    @Option(help: "JSON Lines file for every pool, its losses and the selection.")
    var selectionLog: String?
    @Option(help: "Export the final model as a HuggingFace directory here.")
    var export: String?
    @Flag(help: "Replace an existing --export directory.")
    var overwriteExport = false
    @Flag(help: "Do not rebalance selected samples across ranks.")
    var noRebalance = false
    @Flag(help: "Reduce gradients only after backward (to measure what overlap saves).")
    var noOverlap = false
    @Option(help: "Gradient bucket size in MiB.")
    var bucketMb: Double = 4
    @Option(help: "Compare replica checksums every this many steps (0: never).")
    var checkReplicasEvery: Int = 50
    @Option(help: "Every this many steps, also compute the pool's exact losses (off the clock) and log their rank correlation with the approximate ones (0: never).")
    var fidelityEvery: Int = 0
    @Option(help: "Abort the job when one phase of a step lasts longer than this many seconds (0: never).")
    var watchdogSeconds: Double = 900
    @OptionGroup(visibility: .hidden) var faults: FaultFlags
    @Option(help: "Print a progress line every this many steps.")
    var logEvery: Int = 10

    /// Checks made before MPI starts, identical on every rank, so bad flags never hang a job.
    func validate() throws {
        if let n = trainSubset, n < 1 { throw ValidationError("--train-subset must be at least 1 (got \(n))") }
        if maskCycle < 0 { throw ValidationError("--mask-cycle must be non-negative (got \(maskCycle))") }
        if maskCycle > 0 && data == nil { throw ValidationError("--mask-cycle needs --data (--train-jsonl samples come masked already)") }
        if data == nil && trainJsonl == nil { throw ValidationError("give --data DIR (from `sift prepare`) or --train-jsonl FILE") }
        if data != nil && trainJsonl != nil { throw ValidationError("give either --data or --train-jsonl, not both") }
        if !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must be in [0, 1) (got \(dropout))") }
        if evalSamples < 0 { throw ValidationError("--eval-samples must be non-negative") }
        if let s = seqLen, s < 8 || s > 512 { throw ValidationError("--seq-len must be in 8...512 (got \(s))") }
        if BertConfig.named(config, vocabSize: 100) == nil && !FileManager.default.fileExists(atPath: config) && initFrom == nil {
            throw ValidationError("--config '\(config)' is neither a size (tiny, mini, small, medium, base) nor a readable config.json")
        }
        // --exit-layer's upper bound is known here only for a named size without --init-from; setup checks
        // the options again against the model actually built (config.json, --init-from) and the ranks.
        let layers = initFrom == nil ? Self.namedLayers(config) : nil
        if let problem = options().validationError(numLayers: layers ?? max(1, selection.exitLayer), ranks: 1) {
            throw ValidationError(problem)
        }
    }

    static func namedLayers(_ name: String) -> Int? { BertConfig.named(name, vocabSize: 100)?.numLayers }
    /// The library's options from the flags.
    func options() -> TrainingOptions {
        var o = TrainingOptions()
        o.batchSize = batchSize
        selection.apply(to: &o, hasCounts: data != nil)
        o.microBatch = microBatch; o.learningRate = lr; o.warmupSteps = warmup
        o.weightDecay = weightDecay; o.clipNorm = clipNorm; o.seed = seed
        o.fitsScheduleToBudget = steps == nil && timeBudget != nil
        o.steps = steps ?? (o.fitsScheduleToBudget ? 100_000_000 : 1000)
        o.stopAfter = stopAfter; o.timeBudget = timeBudget; o.scheduleRefitEvery = scheduleRefitEvery; o.targetAccuracy = targetAccuracy; o.evalEvery = evalEvery
        o.evalSamples = evalSamples == 0 ? nil : evalSamples
        o.checkpointDirectory = checkpointDir; o.checkpointEvery = checkpointEvery; o.keepCheckpoints = keepCheckpoints
        o.resume = resume; o.rebalance = !noRebalance; o.overlap = !noOverlap
        o.bucketBytes = Int(bucketMb * 1_048_576); o.checkReplicasEvery = checkReplicasEvery
        o.metricsPath = metrics; o.selectionLogPath = selectionLog; o.logEvery = logEvery; o.watchdogSeconds = watchdogSeconds
        o.faults = faults.injection; o.fidelityEvery = fidelityEvery
        return o
    }

    func run() throws {
        let comm: Communicator
        do { comm = try Communicator() } catch { throw CommandFailure("\(error)") }
        let say: (String) -> Void = { line in if comm.isRoot { print(line); fflush(stdout) } }

        // Everything that can fail because of input is checked on every rank, then agreed on, before
        // any collective that could hang if one rank were missing.
        var setup: TrainingSetup?
        var problem: String?
        do { setup = try TrainingSetup.make(inputs, options: options(), ranks: comm.size) } catch { problem = "\(error)" }
        // One allgather: every rank learns which ranks failed, so a problem on one rank alone stops all.
        let flags = comm.allgather(problem == nil ? 0 : 1)
        let failed = flags.indices.filter { flags[$0] != 0 }
        guard failed.isEmpty, let setup else {
            if let problem {
                printError("error: \(comm.size > 1 ? "rank \(comm.rank): " : "")\(problem)")
            } else if comm.isRoot {
                printError("error: rank\(failed.count > 1 ? "s" : "") \(failed.map(String.init).joined(separator: ", ")) could not start (see above); no rank trains")
            }
            comm.finalize()
            throw ExitCode(2)
        }
        for w in setup.warnings where comm.isRoot { printError("warning: \(w)") }

        let model = setup.model
        let opts = setup.options
        say("sift train: \(opts.policy.rawValue) on \(comm.size) rank(s), model L\(model.config.numLayers)/H\(model.config.hiddenSize)/A\(model.config.numHeads) (\(model.layout.totalCount) parameters), \(setup.train.count) training samples of \(setup.train.seqLen) tokens")
        say("  b = \(opts.batchSize), pool B = \(opts.poolSize), \(SelectionFlags.describe(opts, numLayers: model.config.numLayers)), lr \(opts.learningRate), \(opts.fitsScheduleToBudget ? "schedule fitted to the \(Int(opts.timeBudget!)) s budget" : "\(opts.steps) steps")")

        let trainer = Trainer(options: opts, model: model, communicator: comm, train: setup.train,
                              validation: setup.validation, vocabHash: setup.vocabHash, reference: setup.reference, output: say)
        Preemption.install()
        var preempted = false
        do {
            try trainer.resumeIfRequested()
            let summary = try trainer.run()
            preempted = summary.preempted
            if comm.isRoot {
                TrainingSetup.summaryLines(summary).forEach(say)
                if let dir = export, !preempted {
                    try HuggingFaceCheckpoint.export(config: model.config, layout: model.layout, parameters: model.parameters,
                                                     vocabPath: setup.vocabPath, to: dir, overwrite: overwriteExport)
                    say("exported HuggingFace model to \(dir)")
                }
            }
        } catch let error as TrainingError {
            // Raised identically on every rank (it follows a collective), so every rank exits cleanly.
            if comm.isRoot { printError("error: \(error)") }
            comm.finalize()
            throw ExitCode(1)
        } catch {
            printError("error: rank \(comm.rank): \(error)")
            comm.abort(code: 1)
        }
        comm.finalize()
        if preempted { throw ExitCode(Preemption.exitCode) }
    }
}
