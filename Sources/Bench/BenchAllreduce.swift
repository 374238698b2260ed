import Communication
import Core
import CostModel
import Foundation
import Kernels
import Model
import Training

extension Bench {
    // MARK: - Allreduce

    /// Times an in-place float allreduce of each configuration's gradient (one blocking call, and in
    /// the trainer's non-blocking 4 MiB buckets) and an 8-byte allreduce, and compares the blocking
    /// one with the ring bound on the measured memory bandwidth.
    func measureAllreduce(memory: MemoryReport?) -> AllreduceReport {
        let p = comm.size
        let medium = memory.map {
            CommunicationMedium.sharedMemory(
                copyBandwidth: $0.allRanks.copyBytesPerS,
                triadBandwidth: $0.allRanks.triadBytesPerS, latency: 0)
        }
        var rows: [AllreduceRow] = []
        say("\ngradient allreduce — MPI_Allreduce in place, float32, \(p) ranks, median of \(plan.repeats); bus bandwidth = 2(p−1)/p·S / t")
        var table = TextTable([
            "config", "gradient", "time", "bus GB/s", "ring bound", "bound bus GB/s", "% of bound",
            "4 MiB buckets (trainer)", "bus GB/s "
        ])
        for name in plan.names {
            let count = ParameterLayout(config: plan.config(name)).totalCount
            let buffer = FloatBuffer(count: count)
            for i in stride(from: 0, to: count, by: 1024) { buffer[i] = 1 }
            let secs = median(comm, repeats: plan.repeats) { comm.allreduceSum(buffer.pointer, count: count) }
            let bytes = Double(count * 4)
            let bus = 2 * Double(p - 1) / Double(p) * bytes / secs
            let bound = medium.map { ScalingModel.ringAllreduceSeconds(bytes: bytes, ranks: p, buckets: 1, medium: $0) }
            let boundBus = bound.map { 2 * Double(p - 1) / Double(p) * bytes / $0 }
            // The same sum as the trainer issues it: non-blocking MPI_Iallreduce per 4 MiB bucket, all
            // started at once (no backward to overlap), then waited for.
            let buckets = GradientBuckets(gradients: buffer, communicator: comm, bucketBytes: 4 << 20, overlap: false)
            let bucketed = median(comm, repeats: plan.repeats) { _ = buckets.finish() }
            let bucketedBus = 2 * Double(p - 1) / Double(p) * bytes / bucketed
            table.add([
                name, String(format: "%.1f MB", bytes / 1e6), formatSeconds(secs), fmt(bus / 1e9, 2),
                formatSeconds(bound), fmt(boundBus.map { $0 / 1e9 }, 2), pct(bound.map { $0 / secs }, 0),
                formatSeconds(bucketed), fmt(bucketedBus / 1e9, 2)
            ])
            rows.append(
                AllreduceRow(
                    config: name, bytes: bytes, seconds: secs, busBytesPerS: bus, bucketedSeconds: bucketed,
                    bucketedBusBytesPerS: bucketedBus, buckets: buckets.ranges.count, ringBoundSeconds: bound,
                    ringBoundBusBytesPerS: boundBus, fractionOfBound: bound.map { $0 / secs }, ranks: p))
        }
        var small = [0.0]
        let smallSecs = small.withUnsafeMutableBufferPointer { buf in
            median(comm, repeats: max(50, 20 * plan.repeats)) { comm.allreduceSum(buf.baseAddress!, count: 1) }
        }
        let rounds = ceil(log2(Double(p)))
        say(table.render())
        say(
            "  ring bound on one node (ScalingModel.ringAllreduceSeconds): t ≥ (p−1)·S·(3/B_triad + 2/B_copy), with "
                + "the all-ranks STREAM rates above:")
        say("  each reduce-scatter step reads a peer's chunk and its own and writes the sum (triad traffic), each allgather")
        say("  step copies a chunk (copy traffic). It assumes single-copy transfers, buffers larger than the caches (the")
        say("  L3 holds a small model's gradient, which can then beat it) and memory as the only limit; latency is not in it.")
        if memory == nil { say("  (no bound: the memory section was not run)") }
        let algorithm = comm.intParameter(Communicator.iallreduceAlgorithmParameter)
        let names = [
            0: "libnbc's own choice: a binomial tree for in-place calls", 1: "ring", 2: "binomial tree",
            3: "Rabenseifner", 4: "recursive doubling"
        ]
        say(
            "  4 MiB buckets: the trainer's non-blocking MPI_Iallreduce per bucket (OpenMPI's libnbc, algorithm "
                + (algorithm.map { "\(Communicator.iallreduceAlgorithmParameter) = \($0): \(names[$0] ?? "unknown")" } ?? "unknown")
                + "), all started at once, then waited for.")
        say(
            "  8-byte allreduce: \(formatSeconds(smallSecs)) → latency α ≈ \(formatSeconds(smallSecs / rounds)) per "
                + "round (⌈log₂ p⌉ = \(Int(rounds)) rounds)")
        return AllreduceReport(
            gradients: rows, smallAllreduceSeconds: smallSecs, latencySeconds: smallSecs / rounds, ranks: p,
            iallreduceAlgorithm: algorithm)
    }
}
