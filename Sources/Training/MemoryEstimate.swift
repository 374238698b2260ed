import Foundation
import Model
import Selection

/// What one rank of a run holds in memory, estimated before anything run-sized is allocated, so that a
/// pool or batch too large for the machine is refused with the numbers instead of aborting mid-allocation.
///
/// Counted: the parameters, their gradients and the optimizer's two moments (16 bytes per parameter); the pool's
/// bookkeeping on every rank (candidate indices, epochs, scores and the gathered selection: 64 bytes per
/// candidate); the scoring activations kept for this rank's share of the pool with
/// `--reuse-scoring-forward` (`ActivationPrefix`), else one scoring micro-batch; and the training
/// workspace of one micro-batch with the MLM head at its masked positions. Buffers that do not grow with
/// the run (evaluation, checkpoints, MPI) are left out, so the estimate is a lower bound.
public struct MemoryEstimate: Sendable {
    public var parameterBytes: Double
    public var poolBytes: Double
    public var scoringBytes: Double
    public var trainingBytes: Double
    /// Candidates whose scoring activations this rank keeps.
    public var scoredHere: Int
    /// Samples in one forward/backward call.
    public var microBatch: Int

    public var totalBytes: Double { parameterBytes + poolBytes + scoringBytes + trainingBytes }

    public init(options: TrainingOptions, config: BertConfig, seqLen: Int, ranks: Int) {
        parameterBytes = 16 * Double(ParameterLayout(config: config).totalCount)
        poolBytes = 64 * Double(options.poolSize)
        let share = GlobalSelection.largestShare(poolSize: options.poolSize, size: ranks)
        microBatch = min(options.microBatch, max(1, GlobalSelection.largestShare(poolSize: options.batchSize, size: ranks)))
        let heads = Double(config.vocabSize + config.hiddenSize) * 2 * 4 * (0.15 * Double(seqLen)).rounded(.up)
        if let path = options.scoringPath(numLayers: config.numLayers) {
            let prefix = Double(ActivationMemory.prefixBytesPerSample(config: config, depth: path.exitLayer, seqLen: seqLen))
            scoredHere = path.reusesForward ? share : min(share, options.microBatch)
            scoringBytes = Double(scoredHere) * prefix + Double(min(share, options.microBatch)) * heads
        } else {
            scoredHere = 0
            scoringBytes = 0
        }
        trainingBytes =
            Double(microBatch)
            * (Double(ActivationMemory.trainingBytesPerSample(config: config, seqLen: seqLen)) + heads)
    }

    /// One line with the estimate and its parts, in GiB.
    public var description: String {
        func gib(_ b: Double) -> String {
            b >= Double(1 << 40) ? String(format: "%.3g TiB", b / Double(1 << 40)) : String(format: "%.2f GiB", b / Double(1 << 30))
        }
        return "about \(gib(totalBytes)) per rank: parameters and AdamW moments \(gib(parameterBytes)), "
            + "pool bookkeeping \(gib(poolBytes)), scoring activations of \(scoredHere) candidates \(gib(scoringBytes)), "
            + "a micro-batch of \(microBatch) \(gib(trainingBytes))"
    }

    /// Ranks of this job on this machine: OpenMPI's local size; else 1, so that a launcher that does not
    /// say (a multi-node job could share nothing) never makes the memory check refuse a run that fits.
    public static func ranksOnThisMachine(_ ranks: Int) -> Int {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) }.map { min(max($0, 1), ranks) } ?? 1
    }

    /// Why `ranksHere` ranks of this estimate do not fit `physicalBytes` of memory, or nil.
    public func problem(physicalBytes: UInt64, ranksHere: Int, pool: Int, batchSize: Int) -> String? {
        let needed = totalBytes * Double(max(ranksHere, 1))
        guard needed > Double(physicalBytes) else { return nil }
        let here = ranksHere > 1 ? " × \(ranksHere) ranks on this machine" : ""
        return "the run needs \(description)\(here), more than this machine's "
            + String(format: "%.1f GiB of memory; ", Double(physicalBytes) / Double(1 << 30))
            + "lower the pool (\(pool) candidates: --batch-size \(batchSize), --select-fraction), --micro-batch or the model size"
    }
}
