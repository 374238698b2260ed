import Core
import Foundation
import Kernels
import Model
import Selection

extension Bench {
    /// Times a vanilla trainer step per configuration with `KernelProfile` on, and prints per kernel
    /// kind its time per step, share of the step, achieved rate and that rate against the machine's
    /// limit measured earlier in the run (`sgemm` and `memory` sections).
    func measureProfile(peak: Double?, memory: MemoryReport?) throws -> [ProfileRow] {
        var rows: [ProfileRow] = []
        let triadPerRank = memory.map { $0.allRanks.triadBytesPerS / Double(max(1, comm.size)) }
        say(
            "\nkernel profile of the vanilla step (rank 0; the trainer's own step on all \(comm.size) rank(s) at once, "
                + "\(plan.repeats) steps after a warm-up)")
        var table = TextTable(
            ["config", "kernel", "calls/step", "ms/step", "share", "rate", "of limit"],
            alignments: [.left, .left, .right, .right, .right, .right, .right])
        for name in plan.names {
            let config = plan.config(name)
            let model = BertForMaskedLM(config: config, seed: 1)
            let timing = try trainerStep(
                model: model, policy: .vanilla, exitLayer: 1, scorePositions: 0,
                perRankBatch: plan.batch[name]!, profile: true)
            let steps = Double(max(1, timing.steps))
            var accounted = 0.0
            for kind in KernelProfile.Kind.allCases {
                let t = timing.kernels[kind.rawValue]
                guard t.calls > 0 else { continue }
                let secs = t.seconds / steps
                accounted += secs
                let rate = kind.countsFLOPs ? t.flops / t.seconds / 1e9 : t.bytes / t.seconds / 1e9
                let limit = kind.countsFLOPs ? peak : triadPerRank.map { $0 / 1e9 }
                let row = ProfileRow(
                    config: name, kernel: kind.name, callsPerStep: Double(t.calls) / steps, secondsPerStep: secs,
                    shareOfStep: secs / timing.seconds, gflops: kind.countsFLOPs ? rate : nil,
                    gigabytesPerS: kind.countsFLOPs ? nil : rate, fractionOfLimit: limit.map { rate / $0 })
                rows.append(row)
                table.add([
                    name, kind.name, fmt(row.callsPerStep, 0), fmt(secs * 1e3, 1), pct(row.shareOfStep),
                    fmt(rate, 1) + (kind.countsFLOPs ? " GFLOP/s" : " GB/s"), pct(row.fractionOfLimit)
                ])
            }
            let other = max(0, timing.seconds - accounted)
            rows.append(
                ProfileRow(
                    config: name, kernel: "other", callsPerStep: 0, secondsPerStep: other,
                    shareOfStep: other / timing.seconds, gflops: nil, gigabytesPerS: nil, fractionOfLimit: nil))
            table.add([name, "other (data, allreduce waits, bookkeeping)", "", fmt(other * 1e3, 1), pct(other / timing.seconds), "", ""])
            table.add([name, "step", "", fmt(timing.seconds * 1e3, 1), "100%", "", ""])
        }
        say(table.render())
        say(
            "  rate: matrix kinds in GFLOP/s (2·m·n·k per product, backward's products counted), the rest in GB/s "
                + "(bytes read plus written once);")
        say(
            "  of limit: against the sgemm peak and this rank's share of the STREAM triad rate measured above (— when "
                + "those sections did not run).")
        say("  Attention includes its softmax and probability dropout; linear includes the bias broadcast and bias-gradient sums.")
        return rows
    }
}
