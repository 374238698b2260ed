import Analysis
import ArgumentParser
import Core
import CostModel
import Foundation
import Model

/// `sift project`: projects step time, throughput and parallel efficiency of vanilla and SIFT steps
/// to many nodes (`Analysis.Projection`), or, with `--check`, compares the scaling model with
/// `launch/scaling.sh`'s measurements on this machine (`Analysis.ScalingCheck`).
struct ProjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Project step time and parallel efficiency to many nodes from measured compute times and an interconnect model.",
        discussion: """
            A node is one rank running at the measured per-sample rate (from --bench, --scaling, the per-sample flags or \
            --gflops). Per step: compute = data + scoring + forward/backward + optimizer of the busiest rank; \
            the gradient is reduced by a ring per bucket, 2(p−1)·α per bucket + 2(p−1)/p·S/β; SIFT adds an \
            allgather of the pool's losses; three small allreduces synchronise. With overlap, buckets final \
            during backward are reduced while it runs: exposed = max(0, ring(S − tail) − backward) + ring(tail), \
            the tail being the embedding buckets, final only when backward ends. Without overlap the whole \
            ring is exposed. Weak scaling by default (--batch-size per node: the global batch grows with the nodes, and the \
            tables give the time per sample); --global-batch for strong scaling. \
            --check FILE reads launch/scaling.sh's JSON and prints predicted against measured step times; \
            --check-network FILE does the same for launch/cluster_bench.sh's runs across emulated hosts on shaped links.
            """)

    @Option(help: ArgumentHelp("Model size (\(BertConfig.sizeNames))."))
    var config: String = "base"
    @OptionGroup var shape: StepShapeOptions
    @Option(help: "Samples backpropagated per step over all nodes (strong scaling; replaces --batch-size).")
    var globalBatch: Int?
    @Option(help: "Exit layer of SIFT's scoring.")
    var exitLayer: Int = 1
    @Option(help: "Gradient bucket size in MiB (as sift train --bucket-mb).")
    var bucketMb: Double = 4
    @Option(help: "Samples per forward/backward call (only the last one's backward overlaps the allreduce).")
    var microBatch: Int = 32
    @Option(help: "Interconnect preset: \(Interconnect.presets.map(\.name).joined(separator: ", ")).")
    var interconnect: String = "25gbe"
    @Option(help: "Link bandwidth in Gbit/s (overrides the preset's).")
    var bandwidthGbps: Double?
    @Option(help: "Small-message latency in microseconds (overrides the preset's).")
    var latencyUs: Double?
    @Option(help: "Comma-separated node counts.")
    var nodes: String = "8,16,32,64,128,256,512,1024"
    @Option(help: "JSON from `sift bench --json`: per-sample compute times of --config.")
    var bench: String?
    @Option(help: "JSON from launch/scaling.sh: per-sample compute times from its 1-rank runs of --config.")
    var scaling: String?
    @Option(help: "Forward+backward milliseconds per sample on one node (instead of --bench).")
    var forwardBackwardMs: Double?
    @Option(help: "Scoring milliseconds per candidate at --exit-layer on one node.")
    var scoringMs: Double?
    @Option(help: "Optimizer milliseconds per step.")
    var optimizerMs: Double = 0
    @Option(help: "Data loading milliseconds per sample.")
    var dataMs: Double = 0
    @Option(help: "Instead of measured times: assume the node runs the exact FLOP count at this many GFLOP/s.")
    var gflops: Double?
    @Option(help: "Check the model against launch/scaling.sh's JSON (measured 1–4 rank runs on this machine).")
    var check: String?
    @Option(help: "Check the model against launch/cluster_bench.sh's JSON (2 emulated hosts on shaped links); --latency-us fixes α.")
    var checkNetwork: String?
    @Option(
        help: "With --check-network: payload share of the link rate (default: fitted on the file's allreduce benchmark, else 1448/1514).")
    var linkEfficiency: Double?
    @Option(help: "With --check-network: microseconds each gradient bucket costs beyond the ring's latencies (default: fitted, else 0).")
    var perBucketUs: Double?
    @Option(
        help:
            "With --check-network: share of backward during which started buckets progress, 0–1 (default: fitted on the file's overlapped runs, else 1)."
    )
    var overlapProgress: Double?
    @Option(help: "With --check-network: relative error above which a row is flagged.")
    var tolerance: Double = 0.15
    @OptionGroup var output: JSONOutputOptions

    var nodeCounts: [Int] { nodes.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 } }

    func validate() throws {
        guard let model = BertConfig.named(config, vocabSize: max(5, shape.vocabSize)) else {
            throw ValidationError("unknown --config '\(config)' (expected one of \(BertConfig.sizeNames))")
        }
        guard microBatch >= 1 else { throw ValidationError("--micro-batch must be positive") }
        if let g = globalBatch, g < 1 { throw ValidationError("--global-batch must be positive") }
        guard (1...model.numLayers).contains(exitLayer) else {
            throw ValidationError("--exit-layer must be between 1 and the \(model.numLayers) layers of \(config)")
        }
        guard bucketMb > 0, bucketMb * 1_048_576 >= 4 else { throw ValidationError("--bucket-mb must be positive") }
        guard Interconnect.preset(named: interconnect) != nil else {
            let names = Interconnect.presets.map(\.name).joined(separator: ", ")
            throw ValidationError("unknown --interconnect '\(interconnect)' (expected \(names))")
        }
        if let b = bandwidthGbps, !(b > 0 && b.isFinite) { throw ValidationError("--bandwidth-gbps must be positive") }
        if let l = latencyUs, !(l >= 0 && l.isFinite) { throw ValidationError("--latency-us must be non-negative") }
        guard !nodeCounts.isEmpty, nodes.split(separator: ",").count == nodeCounts.count else {
            throw ValidationError("--nodes must be a comma-separated list of positive integers")
        }
        for (name, v) in [("--forward-backward-ms", forwardBackwardMs), ("--scoring-ms", scoringMs), ("--gflops", gflops)] {
            if let v, !(v >= 0 && v.isFinite) { throw ValidationError("\(name) must be non-negative") }
        }
        if let g = gflops, g == 0 { throw ValidationError("--gflops must be positive") }
        guard optimizerMs >= 0, dataMs >= 0 else { throw ValidationError("--optimizer-ms and --data-ms must be non-negative") }
        if (forwardBackwardMs == nil) != (scoringMs == nil) {
            throw ValidationError("give both --forward-backward-ms and --scoring-ms")
        }
        if let e = linkEfficiency, !(e > 0 && e <= 1.5) { throw ValidationError("--link-efficiency must be in (0, 1.5]") }
        if let c = perBucketUs, !(c >= 0 && c.isFinite) { throw ValidationError("--per-bucket-us must be non-negative") }
        if let f = overlapProgress, !(0...1).contains(f) { throw ValidationError("--overlap-progress must be between 0 and 1") }
        guard tolerance > 0 && tolerance.isFinite else { throw ValidationError("--tolerance must be positive") }
        if check == nil && checkNetwork == nil && bench == nil && scaling == nil && forwardBackwardMs == nil && gflops == nil {
            throw ValidationError(
                "give the compute times: --bench FILE (from `sift bench --json`), --scaling FILE "
                    + "(from launch/scaling.sh), --forward-backward-ms and --scoring-ms, or --gflops")
        }
    }

    func run() throws {
        let say: (String) -> Void = { print($0) }
        if let check {
            let report = try ScalingCheck.run(path: check, say: say)
            if let json = output.json {
                try JSONCoding.write(report, to: json)
                say("wrote \(json)")
            }
            return
        }
        if let checkNetwork {
            let report = try NetworkCheck.run(
                path: checkNetwork, efficiency: linkEfficiency, latency: latencyUs.map { $0 * 1e-6 },
                perBucketSeconds: perBucketUs.map { $0 * 1e-6 }, overlapProgress: overlapProgress,
                tolerance: tolerance, say: say)
            if let json = output.json {
                try JSONCoding.write(report, to: json)
                say("wrote \(json)")
            }
            return
        }
        let model = BertConfig.named(config, vocabSize: shape.vocabSize)!
        let (profile, source) = try computeProfile(model)
        let report = Projection(
            config: config, vocabSize: shape.vocabSize, batchSize: shape.batchSize, globalBatch: globalBatch,
            selectFraction: shape.selectFraction, exitLayer: exitLayer, bucketBytes: Int(bucketMb * 1_048_576),
            microBatch: microBatch, interconnect: network(), nodeCounts: nodeCounts
        )
        .run(profile: profile, source: source, say: say)
        if let json = output.json {
            try JSONCoding.write(report, to: json)
            say("wrote \(json)")
        }
    }

    /// The preset, with `--bandwidth-gbps` and `--latency-us` applied.
    func network() -> Interconnect {
        let net = Interconnect.preset(named: interconnect)!
        guard bandwidthGbps != nil || latencyUs != nil else { return net }
        return Interconnect(
            name: "custom", bandwidthGbps: bandwidthGbps ?? net.bandwidthGbps,
            latencyMicroseconds: latencyUs ?? net.latencyMicroseconds,
            summary: "\(net.summary) with "
                + [bandwidthGbps.map { "\(fmt($0, 1)) Gb/s" }, latencyUs.map { "\(fmt($0, 2)) µs" }]
                .compactMap { $0 }.joined(separator: " and "))
    }

    /// Per-sample compute times of one node from the flags, a bench JSON, a scaling JSON or the FLOP count.
    func computeProfile(_ model: BertConfig) throws -> (ComputeProfile, String) {
        if let fb = forwardBackwardMs, let sc = scoringMs {
            return (
                ComputeProfile(
                    forwardBackwardPerSample: fb / 1e3, scoringPerSample: sc / 1e3, dataPerSample: dataMs / 1e3,
                    optimizerPerStep: optimizerMs / 1e3), "flags"
            )
        }
        if let bench {
            return try ComputeProfile.fromBench(
                bench, config: config, vocabSize: shape.vocabSize, exitLayer: exitLayer,
                dataPerSample: dataMs / 1e3)
        }
        if let scaling { return try ComputeProfile.fromScaling(scaling, config: config, vocabSize: shape.vocabSize, exitLayer: exitLayer) }
        return ComputeProfile.fromFLOPs(
            model, gflops: gflops!, seqLen: shape.seqLen, exitLayer: exitLayer,
            dataPerSample: dataMs / 1e3, optimizerPerStep: optimizerMs / 1e3)
    }
}
