import ArgumentParser
import Communication
import Data
import Foundation
import Interop
import Model
import Setup
import Training

/// `sift train`'s defaults: the library's (`TrainingOptions`), read by every flag so that they live in one place.
let trainDefaults = TrainingOptions()

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
            of ranks. Without mpirun it runs as a single rank. Why the defaults are what they are: docs/DECISIONS.md.
            """)

    @Option(help: ArgumentHelp("Model size (\(BertConfig.sizeNames)) or a HuggingFace config.json path."))
    var config: String = "mini"
    @Option(help: "Dataset directory written by `sift prepare`.")
    var data: String?
    @Option(help: "Pre-masked JSON Lines training samples (instead of --data).")
    var trainJsonl: String?
    @Option(help: "Pre-masked JSON Lines validation samples (with --train-jsonl).")
    var validationJsonl: String?
    @Option(help: "Vocabulary file (default: the dataset's vocab.txt).")
    var vocab: String?
    @Option(help: "Sequence length in tokens; must match the dataset if given.")
    var seqLen: Int?
    @Option(help: "Samples backpropagated per optimizer step over all ranks (b).")
    var batchSize: Int = trainDefaults.batchSize
    @OptionGroup(title: "Selection")
    var selection: SelectionFlags
    @Option(help: "Train on a fixed subset of this many training sequences (chosen by a hash independent of --seed).")
    var trainSubset: Int?
    // .unconditional: a negative value reaches validation (and its message) instead of reading as a flag.
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Masks repeat every this many epochs (BERT's dupe_factor); 1: static masks; 0: new masks every epoch.",
            discussion: "A resumed run must be given the same value."))
    var maskCycle: Int = 0
    @Option(
        help: ArgumentHelp(
            "What one masking draw covers: tokens (each WordPiece on its own) or words (a word and its ## pieces together).",
            discussion: "Both mask the same share of tokens in expectation (0.15). A resumed run must keep the mode."))
    var mask: MaskingMode = trainDefaults.masking
    @Option(help: "Largest number of samples per forward/backward call on a rank (gradients accumulate beyond it).")
    var microBatch: Int = trainDefaults.microBatch
    @Option(help: "Peak learning rate.")
    var lr: Float = trainDefaults.learningRate
    @Option(help: "Linear warm-up, in steps.")
    var warmup: Int = trainDefaults.warmupSteps
    @Option(
        help: ArgumentHelp(
            """
            Update rule: adamw, or lamb (AdamW's step rescaled per weight matrix by ‖w‖/‖update‖, for large \
            global batches; docs/TRAINING.md).
            """, discussion: "A resumed run must be given the same optimizer."))
    var optimizer: OptimizerKind = trainDefaults.optimizer
    @Option(help: "Decoupled weight-decay coefficient of the optimizer, unitless (not on biases and LayerNorm).")
    var weightDecay: Float = trainDefaults.weightDecay
    @Option(help: "Global gradient-norm clipping threshold.")
    var clipNorm: Float = trainDefaults.clipNorm
    @Option(help: "Dropout probability (hidden and attention).")
    var dropout: Float = 0.1
    @Option(help: "Seed of every random choice (initialisation, data order, masks, dropout, sampling).")
    var seed: UInt64 = trainDefaults.seed
    @Option(
        help: ArgumentHelp(
            "Optimizer steps, also the length of the learning-rate schedule (default: \(trainDefaults.steps)).",
            discussion: "With --time-budget and no --steps, the schedule's length is fitted to the budget."))
    var steps: Int?
    @Option(help: "Stop with a checkpoint after this step, keeping the --steps schedule (continue with --resume).")
    var stopAfter: Int?
    @Option(help: "Stop after this many seconds of training (evaluation and fidelity checks are off the clock).")
    var timeBudget: Double?
    @Option(help: "With --time-budget and no --steps: re-fit the schedule's end every this many steps (0: fit once).")
    var scheduleRefitEvery: Int = trainDefaults.scheduleRefitEvery
    @Option(help: "Stop when validation accuracy reaches this fraction in (0, 1], e.g. 0.3.")
    var targetAccuracy: Double?
    @Option(help: "Evaluate the validation split every this many steps (0: only at the end).")
    var evalEvery: Int = trainDefaults.evalEvery
    @Option(
        help: ArgumentHelp(
            "Also evaluate every EVERY steps from step FROM to TO, comma-separated windows (default: none).",
            valueName: "FROM-TO:EVERY,..."))
    var evalDense: String?
    @Option(help: "Validation samples evaluated, the first ones of the split (0: all).")
    var evalSamples: Int = trainDefaults.evalSamples ?? 0
    @Option(help: "Directory for checkpoints.")
    var checkpointDir: String?
    @Option(help: "Checkpoint every this many steps (0: only at the end).")
    var checkpointEvery: Int = trainDefaults.checkpointEvery
    @Option(help: "Newest checkpoints kept.")
    var keepCheckpoints: Int = trainDefaults.keepCheckpoints
    @Flag(
        help: ArgumentHelp(
            "Continue from the newest valid checkpoint in --checkpoint-dir.",
            discussion: "A missing or empty directory, or one whose checkpoints are all damaged, is an error."))
    var resume = false
    @Flag(
        help: """
            Like --resume, but start from step 0 when --checkpoint-dir is missing, empty or holds only damaged \
            checkpoints (moved aside as NAME.damaged): for a job's first launch under a restarting launcher.
            """)
    var resumeOrStart = false
    @Flag(
        help: """
            Start from step 0 although --checkpoint-dir, --metrics, --selection-log or --tensorboard hold an earlier \
            run's files: its checkpoints and event files are deleted and its logs replaced. Without it (or --resume) \
            they are an error.
            """)
    var startOver = false
    @Option(
        help: ArgumentHelp(
            "Start a new phase from the newest valid checkpoint in this directory (default: none).",
            discussion: """
                The weights, the optimizer's moments and the step count continue; the data may have another \
                sequence length, --batch-size may change, and --lr, --warmup and --steps set the new phase's own \
                schedule, counted from its first step (the run ends --steps steps after the checkpoint's). Every \
                other setting must match. \
                The directory is only read: checkpoints go to --checkpoint-dir, another folder. Continue a \
                stopped phase with --resume.
                """,
            valueName: "dir"))
    var phaseFrom: String?
    @Option(help: "Initialise from a HuggingFace BERT directory (config.json + model.safetensors).")
    var initFrom: String?
    @Option(help: "JSON Lines file for per-step metrics (schema: docs/METRICS.md).")
    var metrics: String?
    @Option(
        help: ArgumentHelp(
            "Directory for TensorBoard event files (rank 0, one file per run; default none; tags: docs/METRICS.md).",
            valueName: "dir"))
    var tensorboard: String?
    @Option(help: "JSON Lines file for every pool, its losses and the selection.")
    var selectionLog: String?
    @Option(help: "Export the final model as a HuggingFace directory here.")
    var export: String?
    @Flag(help: "Replace an existing --export directory if it holds a model sift exported (its .sift-export marker).")
    var overwriteExport = false
    @Flag(help: "Do not rebalance selected samples across ranks.")
    var noRebalance = false
    @Flag(help: "Reduce gradients only after backward, not overlapped with it.")
    var noOverlap = false
    @Option(help: "Gradient allreduce bucket size, MiB.")
    var bucketMb: Double = Double(trainDefaults.bucketBytes) / 1_048_576
    @Option(
        help: """
            Number format of the gradient exchange: fp32, or bf16 (half the bytes over the network; every sum \
            rounded to bfloat16, so the weights change slightly and depend on the rank count). Default fp32.
            """)
    var gradientExchange: GradientExchange = .fp32
    @Option(help: "Compare replica checksums every this many steps (0: never).")
    var checkReplicasEvery: Int = trainDefaults.checkReplicasEvery
    @Option(help: "Every this many steps, also rank the pool by its exact losses (off the clock) and log the agreement (0: never).")
    var fidelityEvery: Int = trainDefaults.fidelityEvery
    @Option(help: "Abort the job when one phase of a step lasts longer than this many seconds (0: never).")
    var watchdogSeconds: Double = trainDefaults.watchdogSeconds
    @OptionGroup(visibility: .hidden) var faults: FaultFlags
    /// Hidden: the last layer at every position, as before the sparse last layer (for comparisons).
    @Flag(help: .hidden) var denseLastLayer = false
    @Option(help: "Print a progress line every this many steps.")
    var logEvery: Int = trainDefaults.logEvery

    /// Checks made before MPI starts, identical on every rank, so bad flags never hang a job.
    func validate() throws {
        for window in evalWindows { if case .failure(let e) = window { throw ValidationError("--eval-dense: \(e.message)") } }
        if let n = trainSubset, n < 1 { throw ValidationError("--train-subset must be at least 1 (got \(n))") }
        if maskCycle < 0 { throw ValidationError("--mask-cycle must be non-negative (got \(maskCycle))") }
        if maskCycle > 0 && data == nil { throw ValidationError("--mask-cycle needs --data (--train-jsonl samples come masked already)") }
        if mask != .tokens && data == nil {
            throw ValidationError("--mask \(mask.rawValue) needs --data (--train-jsonl samples come masked already)")
        }
        if data == nil && trainJsonl == nil { throw ValidationError("give --data DIR (from `sift prepare`) or --train-jsonl FILE") }
        if data != nil && trainJsonl != nil { throw ValidationError("give either --data or --train-jsonl, not both") }
        if let export, let checkpointDir, let problem = Self.overlap(export: export, checkpointDir: checkpointDir) {
            throw ValidationError(problem)
        }
        if phaseFrom != nil && initFrom != nil {
            throw ValidationError("--phase-from continues a checkpoint's weights, and --init-from loads others; pass one of them")
        }
        if !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must be in [0, 1) (got \(dropout))") }
        if evalSamples < 0 { throw ValidationError("--eval-samples must be non-negative") }
        if let s = seqLen, s < 8 || s > 512 { throw ValidationError("--seq-len must be in 8...512 (got \(s))") }
        if BertConfig.named(config, vocabSize: 100) == nil && !FileManager.default.fileExists(atPath: config) && initFrom == nil {
            throw ValidationError("--config '\(config)' is neither a size (\(BertConfig.sizeNames)) nor a readable config.json")
        }
        // --exit-layer's upper bound is known here only for a named size without --init-from; setup checks
        // the options again against the model actually built (config.json, --init-from) and the ranks.
        let layers = initFrom == nil ? BertConfig.named(config, vocabSize: 100)?.numLayers : nil
        if let problem = options().validationError(numLayers: layers ?? max(1, selection.exitLayer), ranks: 1) {
            throw ValidationError(problem)
        }
    }

    /// Why `--export` may not be written where it is asked for, or nil: replacing the run's own
    /// `--checkpoint-dir`, a folder inside it or one holding it would delete the checkpoints.
    static func overlap(export: String, checkpointDir: String) -> String? {
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        let e = absolute(export), c = absolute(checkpointDir)
        if e == c { return "--export \(export) is the run's --checkpoint-dir; export to another directory" }
        if e.hasPrefix(c + "/") { return "--export \(export) is inside the run's --checkpoint-dir \(checkpointDir); export elsewhere" }
        if c.hasPrefix(e + "/") { return "--export \(export) holds the run's --checkpoint-dir \(checkpointDir); export elsewhere" }
        return nil
    }

    /// `--eval-dense`'s windows, each parsed or refused.
    var evalWindows: [Result<EvaluationWindow, EvaluationWindow.WindowError>] {
        (evalDense ?? "").split(separator: ",").map { EvaluationWindow.parse(String($0)) }
    }

    /// The library's options from the flags.
    func options() -> TrainingOptions {
        var o = TrainingOptions()
        o.batchSize = batchSize
        selection.apply(to: &o, hasCounts: data != nil)
        o.microBatch = microBatch
        o.learningRate = lr
        o.warmupSteps = warmup
        o.optimizer = optimizer
        o.weightDecay = weightDecay
        o.clipNorm = clipNorm
        o.seed = seed
        o.masking = mask
        o.fitsScheduleToBudget = steps == nil && timeBudget != nil
        o.steps = steps ?? (o.fitsScheduleToBudget ? 100_000_000 : trainDefaults.steps)
        o.stopAfter = stopAfter
        o.timeBudget = timeBudget
        o.scheduleRefitEvery = scheduleRefitEvery
        o.targetAccuracy = targetAccuracy
        o.evalEvery = evalEvery
        o.evalWindows = evalWindows.compactMap { try? $0.get() }
        o.evalSamples = evalSamples == 0 ? nil : evalSamples
        o.checkpointDirectory = checkpointDir
        o.checkpointEvery = checkpointEvery
        o.keepCheckpoints = keepCheckpoints
        o.resume = resume || resumeOrStart
        o.resumeOrStart = resumeOrStart
        o.startOver = startOver
        o.phaseFrom = phaseFrom
        o.rebalance = !noRebalance
        o.overlap = !noOverlap
        o.bfloat16Gradients = gradientExchange == .bf16
        o.denseLastLayer = denseLastLayer
        o.bucketBytes = Int(bucketMb * 1_048_576)
        o.checkReplicasEvery = checkReplicasEvery
        o.metricsPath = metrics
        o.tensorboardDirectory = tensorboard
        o.selectionLogPath = selectionLog
        o.logEvery = logEvery
        o.watchdogSeconds = watchdogSeconds
        o.faults = faults.injection
        o.fidelityEvery = fidelityEvery
        return o
    }

    /// The flags that name outside input, as `TrainingSetup` takes them.
    var inputs: TrainingInputs {
        TrainingInputs(
            config: config, data: data, trainJsonl: trainJsonl, validationJsonl: validationJsonl,
            vocab: vocab, seqLen: seqLen, trainSubset: trainSubset, maskCycle: maskCycle, initFrom: initFrom,
            dropout: dropout, export: export, overwriteExport: overwriteExport)
    }

    func run() throws {
        try TrainingRun(command: self).run()
    }
}

/// `--mask`: single tokens or whole words.
extension MaskingMode: ExpressibleByArgument {}

extension OptimizerKind: ExpressibleByArgument {}
