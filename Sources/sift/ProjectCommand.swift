import ArgumentParser
import Foundation
import Model
import Training

/// `sift project`: projects step time, throughput and parallel efficiency of vanilla and SIFT steps
/// to many nodes from measured per-sample compute times and a latency/bandwidth description of an
/// interconnect (`ScalingModel`), or, with `--check`, compares the model with `launch/scaling.sh`'s
/// measurements on this machine.
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
        ring is exposed. Weak scaling by default (--batch-size per node); --global-batch for strong scaling. \
        --check FILE reads launch/scaling.sh's JSON and prints predicted against measured step times.
        """)

    @Option(help: "Model size (tiny, mini, small, medium, base).")
    var config: String = "base"
    @Option(help: "Vocabulary size.")
    var vocabSize: Int = 30522
    @Option(help: "Sequence length (for --gflops).")
    var seqLen: Int = 128
    @Option(help: "Samples backpropagated per node per step (weak scaling).")
    var batchSize: Int = 32
    @Option(help: "Samples backpropagated per step over all nodes (strong scaling; replaces --batch-size).")
    var globalBatch: Int?
    @Option(help: "Selection fraction ρ of SIFT.")
    var selectFraction: Double = 0.5
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
    @Option(help: "Write the projection (or check) as JSON to this file.")
    var json: String?

    func validate() throws {
        guard BertConfig.named(config, vocabSize: max(5, vocabSize)) != nil else {
            throw ValidationError("unknown --config '\(config)' (expected tiny, mini, small, medium or base)")
        }
        guard vocabSize >= 5 else { throw ValidationError("--vocab-size must be at least 5") }
        guard batchSize >= 1, microBatch >= 1, seqLen >= 8, seqLen <= 512 else {
            throw ValidationError("--batch-size and --micro-batch must be positive, --seq-len in 8...512")
        }
        if let g = globalBatch, g < 1 { throw ValidationError("--global-batch must be positive") }
        guard selectFraction > 0 && selectFraction <= 1 else { throw ValidationError("--select-fraction must be in (0, 1]") }
        let layers = BertConfig.named(config, vocabSize: vocabSize)!.numLayers
        guard (1...layers).contains(exitLayer) else {
            throw ValidationError("--exit-layer must be between 1 and the \(layers) layers of \(config)")
        }
        guard bucketMb > 0, bucketMb * 1_048_576 >= 4 else { throw ValidationError("--bucket-mb must be positive") }
        guard Interconnect.preset(named: interconnect) != nil else {
            throw ValidationError("unknown --interconnect '\(interconnect)' (expected \(Interconnect.presets.map(\.name).joined(separator: ", ")))")
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
        if let json {
            let dir = (json as NSString).deletingLastPathComponent
            guard FileManager.default.isWritableFile(atPath: dir.isEmpty ? "." : dir) else {
                throw ValidationError("--json: cannot write to directory '\(dir.isEmpty ? "." : dir)'")
            }
        }
        if check == nil && bench == nil && scaling == nil && forwardBackwardMs == nil && gflops == nil {
            throw ValidationError("give the compute times: --bench FILE (from `sift bench --json`), --scaling FILE (from launch/scaling.sh), --forward-backward-ms and --scoring-ms, or --gflops")
        }
    }

    var nodeCounts: [Int] { nodes.split(separator: ",").compactMap { Int($0) }.filter { $0 >= 1 } }

    func run() throws {
        if let check { return try runCheck(path: check) }
        let model = BertConfig.named(config, vocabSize: vocabSize)!
        let (profile, source) = try computeProfile(model)
        var net = Interconnect.preset(named: interconnect)!
        if bandwidthGbps != nil || latencyUs != nil {
            net = Interconnect(name: "custom", bandwidthGbps: bandwidthGbps ?? net.bandwidthGbps,
                               latencyMicroseconds: latencyUs ?? net.latencyMicroseconds,
                               summary: "\(net.summary) with " + [bandwidthGbps.map { "\(fmt($0, 1)) Gb/s" }, latencyUs.map { "\(fmt($0, 2)) µs" }]
                                   .compactMap { $0 }.joined(separator: " and "))
        }
        let bucketBytes = Int(bucketMb * 1_048_576)
        let scaling = ScalingModel(config: model, bucketBytes: bucketBytes, compute: profile, medium: net.medium, microBatch: microBatch)

        print("sift project — BERT-\(config) (vocab \(vocabSize)): gradient \(fmt(scaling.gradientBytes / 1e6, 1)) MB in \(scaling.buckets) buckets of \(fmt(bucketMb, 1)) MiB; "
              + "\(fmt(scaling.tailBytes / 1e6, 1)) MB in \(scaling.tailBuckets) (the embeddings) final only when backward ends")
        print("interconnect \(net.name): \(net.summary), β = \(fmt(net.bandwidthGbps, 1)) Gb/s, α = \(fmt(net.latencyMicroseconds, 2)) µs (nominal figures)")
        print("compute per node (\(source)): forward+backward \(formatSeconds(profile.forwardBackwardPerSample))/sample, "
              + "scoring at exit \(exitLayer) \(formatSeconds(profile.scoringPerSample))/candidate, optimizer \(formatSeconds(profile.optimizerPerStep))/step, "
              + "data \(formatSeconds(profile.dataPerSample))/sample")
        if let g = globalBatch {
            print("strong scaling: \(g) samples backpropagated per step over all nodes; efficiency = speedup / nodes")
        } else {
            print("weak scaling: \(batchSize) samples backpropagated per node per step; efficiency = throughput_p / (p · throughput_1)")
        }
        var out: [[String: Any]] = []
        let counts = [1] + nodeCounts.filter { $0 != 1 }
        for policy in [ProjectedPolicy.vanilla, .sift(selectFraction: selectFraction)] {
            let title = policy == .vanilla ? "vanilla" : "SIFT (exit layer \(exitLayer), ρ = \(selectFraction))"
            print("\n\(title)")
            var table = TextTable(["nodes", "global b", "compute", "allreduce", "exposed w/ overlap", "loss exchange + sync",
                                   "step w/ overlap", "step w/o overlap", "samples/s w/ overlap", "samples/s w/o",
                                   "efficiency w/ overlap", "efficiency w/o"])
            let baseline = globalBatch ?? batchSize
            for p in counts {
                let b = globalBatch ?? batchSize * p
                guard b >= p else {
                    table.add(["\(p)", "\(b)"] + Array(repeating: "—", count: 10))
                    continue
                }
                let s = scaling.predict(ranks: p, globalBatch: b, policy: policy)
                let eOn = scaling.efficiency(ranks: p, globalBatch: b, baselineBatch: baseline, policy: policy, overlap: true)
                let eOff = scaling.efficiency(ranks: p, globalBatch: b, baselineBatch: baseline, policy: policy, overlap: false)
                table.add(["\(p)", "\(b)", formatSeconds(s.compute), formatSeconds(s.allreduce), formatSeconds(s.exposedAllreduceWithOverlap),
                           formatSeconds(s.selectionExchange + s.synchronisation), formatSeconds(s.stepSeconds(overlap: true)),
                           formatSeconds(s.stepSeconds(overlap: false)), rate(s.samplesPerSecond(overlap: true)),
                           rate(s.samplesPerSecond(overlap: false)), pct(eOn), pct(eOff)])
                out.append(["policy": policy == .vanilla ? "vanilla" : "sift", "nodes": p, "global_batch": b,
                            "compute_seconds": s.compute, "scoring_seconds": s.scoring, "allreduce_seconds": s.allreduce,
                            "exposed_allreduce_with_overlap_seconds": s.exposedAllreduceWithOverlap,
                            "selection_exchange_seconds": s.selectionExchange, "synchronisation_seconds": s.synchronisation,
                            "step_seconds_overlap": s.stepSeconds(overlap: true), "step_seconds_no_overlap": s.stepSeconds(overlap: false),
                            "samples_per_second_overlap": s.samplesPerSecond(overlap: true),
                            "samples_per_second_no_overlap": s.samplesPerSecond(overlap: false),
                            "efficiency_overlap": eOn, "efficiency_no_overlap": eOff])
            }
            print(table.render())
        }
        print("""

        Assumptions: one rank per node at the measured rate; ring allreduce per bucket (its 2(p−1)·α per bucket \
        dominates at many nodes: larger --bucket-mb reduces it); ⌈log₂ p⌉ rounds for the loss allgather and the \
        small allreduces; overlap hides the non-embedding buckets behind the last micro-batch's backward (2/3 of \
        its forward+backward) if the link keeps up; no stragglers, jitter or congestion; nominal link rates.
        """)
        if let json {
            try writeJSON(["config": config, "vocab_size": vocabSize, "gradient_bytes": scaling.gradientBytes,
                           "tail_bytes": scaling.tailBytes, "buckets": scaling.buckets, "tail_buckets": scaling.tailBuckets,
                           "interconnect": ["name": net.name, "bandwidth_gbps": net.bandwidthGbps, "latency_us": net.latencyMicroseconds],
                           "compute": ["forward_backward_seconds_per_sample": profile.forwardBackwardPerSample,
                                       "scoring_seconds_per_sample": profile.scoringPerSample,
                                       "optimizer_seconds_per_step": profile.optimizerPerStep,
                                       "data_seconds_per_sample": profile.dataPerSample, "source": source],
                           "scaling": globalBatch == nil ? "weak" : "strong", "batch": globalBatch ?? batchSize,
                           "select_fraction": selectFraction, "exit_layer": exitLayer, "rows": out], to: json)
        }
    }

    /// Per-sample compute times of one node from the flags, a bench JSON, or the FLOP count.
    func computeProfile(_ model: BertConfig) throws -> (ComputeProfile, String) {
        if let fb = forwardBackwardMs, let sc = scoringMs {
            return (ComputeProfile(forwardBackwardPerSample: fb / 1e3, scoringPerSample: sc / 1e3, dataPerSample: dataMs / 1e3,
                                   optimizerPerStep: optimizerMs / 1e3), "flags")
        }
        if let bench { return try profileFromBench(bench) }
        if let scaling { return try profileFromScaling(scaling) }
        let rate = gflops! * 1e9
        let masked = max(1, Int((Double(seqLen) * 0.15).rounded()))
        let fb = BertForMaskedLM.trainingFLOPs(config: model, batch: 1, seqLen: seqLen, maskedTokens: masked) / rate
        let sc = BertForMaskedLM.scoringFLOPs(config: model, exitLayer: exitLayer, batch: 1, seqLen: seqLen, maskedTokens: masked) / rate
        return (ComputeProfile(forwardBackwardPerSample: fb, scoringPerSample: sc, dataPerSample: dataMs / 1e3,
                               optimizerPerStep: optimizerMs / 1e3),
                "exact FLOP count at \(fmt(gflops!, 0)) GFLOP/s, matrix products only")
    }

    /// Reads `sift bench --json` output: forward+backward and optimizer from the config's vanilla row,
    /// scoring from its SIFT row at `exitLayer`. The bench ran `ranks` ranks on this machine at once, so
    /// one node (this machine) does `ranks` samples in one rank's per-sample time.
    func profileFromBench(_ path: String) throws -> (ComputeProfile, String) {
        let root = try readJSON(path)
        guard let steps = root["steps"] as? [[String: Any]] else {
            throw ValidationError("\(path) has no step measurements (run `sift bench` with the step section)")
        }
        let mine = steps.filter { ($0["config"] as? String) == config }
        guard let vanilla = mine.first(where: { ($0["step"] as? String) == "vanilla" }),
              let b = vanilla["batch"] as? Int, let fb = vanilla["forward_backward_seconds"] as? Double,
              let opt = vanilla["optimizer_seconds"] as? Double else {
            throw ValidationError("\(path) has no vanilla step of \(config) (run `sift bench --configs \(config)`)")
        }
        if let v = vanilla["vocab_size"] as? Int, v != vocabSize {
            throw ValidationError("\(path) measured \(config) with vocab \(v); pass --vocab-size \(v)")
        }
        guard let sift = mine.first(where: { ($0["step"] as? String) == "sift" && ($0["exit_layer"] as? Int) == exitLayer }),
              let pool = sift["pool"] as? Int, let sc = sift["scoring_seconds"] as? Double else {
            throw ValidationError("\(path) has no SIFT step of \(config) at exit layer \(exitLayer) (run `sift bench --exit-layers \(exitLayer)`)")
        }
        let ranks = Double(vanilla["ranks"] as? Int ?? 1)
        let threads = vanilla["threads_per_rank"] as? Int ?? 1
        return (ComputeProfile(forwardBackwardPerSample: fb / Double(b) / ranks, scoringPerSample: sc / Double(pool) / ranks,
                               dataPerSample: dataMs / 1e3, optimizerPerStep: opt),
                "\(path): \(Int(ranks)) rank(s) × \(threads) thread(s) at once, b = \(b); a node = this machine, so per-sample times ÷ \(Int(ranks))")
    }

    /// Reads launch/scaling.sh's JSON: per-sample times from its weak-scaling 1-rank runs (one core,
    /// one OpenBLAS thread). A node is this machine, so per-sample times are divided by its cores, as
    /// if every core ran a rank at the measured rate.
    func profileFromScaling(_ path: String) throws -> (ComputeProfile, String) {
        let root = try readJSON(path)
        guard let name = root["config"] as? String, let runs = root["runs"] as? [[String: Any]] else {
            throw ValidationError("\(path) is not a launch/scaling.sh JSON (needs config and runs)")
        }
        guard name == config.lowercased(), (root["vocab_size"] as? Int) == vocabSize else {
            throw ValidationError("\(path) measured \(name) with vocab \(root["vocab_size"] ?? "?"); pass --config \(name) --vocab-size \(root["vocab_size"] ?? "?")")
        }
        func oneRank(_ policy: String) -> (b: Int, times: [String: Double])? {
            guard let r = runs.first(where: { $0["mode"] as? String == "weak" && $0["policy"] as? String == policy && $0["ranks"] as? Int == 1 }),
                  let b = r["batch_size"] as? Int, let t = r["times"] as? [String: Any] else { return nil }
            return (b, t.compactMapValues { ($0 as? Double) ?? ($0 as? Int).map(Double.init) })
        }
        guard let v = oneRank("vanilla"), let s = oneRank("sift") else {
            throw ValidationError("\(path) has no 1-rank weak-scaling runs of vanilla and sift")
        }
        guard exitLayer == 1 else { throw ValidationError("\(path) measured SIFT at exit layer 1; pass --exit-layer 1") }
        let threads = root["threads_per_rank"] as? Int ?? 1
        let perNode = Double(max(1, (root["cores"] as? Int ?? 1) / max(1, threads)))
        // The runs scored b/0.5 candidates whatever --select-fraction says.
        let pool = ScalingModel.poolSize(globalBatch: s.b, policy: .sift(selectFraction: 0.5))
        return (ComputeProfile(forwardBackwardPerSample: (v.times["forward_backward"] ?? 0) / Double(v.b) / perNode,
                               scoringPerSample: (s.times["scoring"] ?? 0) / Double(pool) / perNode,
                               dataPerSample: (v.times["data"] ?? 0) / Double(v.b) / perNode,
                               optimizerPerStep: v.times["optimizer"] ?? 0),
                "\(path): 1-rank runs on one core; a node = this machine's \(Int(perNode)) cores, so per-sample times ÷ \(Int(perNode))")
    }

    // MARK: - Check against measurements

    /// Predicts every run of a `launch/scaling.sh` JSON from its single-rank runs and the measured
    /// memory bandwidth and latency (one node: the shared-memory medium), and prints predicted against
    /// measured step time.
    func runCheck(path: String) throws {
        let root = try readJSON(path)
        guard let name = root["config"] as? String, let vocab = root["vocab_size"] as? Int,
              let model = BertConfig.named(name, vocabSize: vocab),
              let runs = root["runs"] as? [[String: Any]], let cores = root["cores"] as? Int,
              let memory = root["memory"] as? [String: Any], let all = memory["all_ranks"] as? [String: Any],
              let copy = all["copy_bytes_per_s"] as? Double, let triad = all["triad_bytes_per_s"] as? Double,
              let latency = root["latency_seconds"] as? Double else {
            throw ValidationError("\(path) is not a launch/scaling.sh JSON (needs config, vocab_size, cores, memory, latency_seconds, runs)")
        }
        let threads = root["threads_per_rank"] as? Int ?? 1
        let bucketBytes = Int((root["bucket_mb"] as? Double ?? 4) * 1_048_576)
        let micro = root["micro_batch"] as? Int ?? 32
        let medium = CommunicationMedium.sharedMemory(copyBandwidth: copy, triadBandwidth: triad, latency: latency)
        print("sift project --check — \(path): BERT-\(name) (vocab \(vocab)) on this machine, \(cores) cores, \(threads) OpenBLAS thread(s) per rank")
        print("medium: shared memory, STREAM copy \(fmt(copy / 1e9, 1)) GB/s, triad \(fmt(triad / 1e9, 1)) GB/s (all ranks at once), α = \(formatSeconds(latency)); "
              + "the cores make the copies, so nothing overlaps; ranks beyond \(cores / max(1, threads)) share cores (compute × p·threads/cores)")
        print("compute per sample from each group's 1-rank run; predicted = compute + ring allreduce + loss allgather + 3 small allreduces\n")

        func double(_ r: [String: Any], _ k: String) -> Double? { (r[k] as? Double) ?? (r[k] as? Int).map(Double.init) }
        // How far the trainer's own allreduce (non-blocking 4 MiB buckets, timed by `sift bench` on this
        // config's gradient) is from the memory bound: a second prediction uses it instead of the bound,
        // to show how much of the error is the communication model and how much the compute.
        var allreduceEfficiency: Double?
        if let rows = root["allreduce"] as? [[String: Any]], let row = rows.first(where: { $0["config"] as? String == name }),
           let bound = double(row, "ring_bound_seconds"), let bucketed = double(row, "bucketed_seconds"), bucketed > 0 {
            allreduceEfficiency = bound / bucketed
            print("the trainer's bucketed allreduce of this gradient ran at \(pct(bound / bucketed, 0)) of the bound in `sift bench` "
                  + "(\(double(row, "ranks").map { "\(Int($0))" } ?? "?") ranks); 'w/ measured allreduce' divides the predicted allreduce by that\n")
        }
        var table = TextTable(["mode", "policy", "ranks", "measured step", "predicted", "error", "w/ measured allreduce", "error ",
                               "measured compute", "predicted compute", "measured comm+wait", "predicted comm",
                               "measured eff.", "predicted eff."], alignments: [.left, .left] + Array(repeating: .right, count: 12))
        var out: [[String: Any]] = []
        var errors: [Double] = [], calibratedErrors: [Double] = []
        for mode in ["weak", "strong"] {
            for policyName in ["vanilla", "sift"] {
                let group = runs.filter { ($0["mode"] as? String) == mode && ($0["policy"] as? String) == policyName }
                    .sorted { ($0["ranks"] as? Int ?? 0) < ($1["ranks"] as? Int ?? 0) }
                guard let one = group.first(where: { ($0["ranks"] as? Int) == 1 }),
                      let times = one["times"] as? [String: Any], let b1 = one["batch_size"] as? Int else { continue }
                let rho = double(one, "select_fraction") ?? 0.5
                let policy: ProjectedPolicy = policyName == "vanilla" ? .vanilla : .sift(selectFraction: rho)
                let pool1 = ScalingModel.poolSize(globalBatch: b1, policy: policy)
                let scored1 = policy == .vanilla ? 0 : pool1
                let profile = ComputeProfile(
                    forwardBackwardPerSample: (double(times, "forward_backward") ?? 0) / Double(b1),
                    scoringPerSample: scored1 > 0 ? (double(times, "scoring") ?? 0) / Double(scored1) : 0,
                    dataPerSample: (double(times, "data") ?? 0) / Double(b1 + scored1),
                    optimizerPerStep: double(times, "optimizer") ?? 0)
                let scaling = ScalingModel(config: model, bucketBytes: bucketBytes, compute: profile, medium: medium, microBatch: micro)
                let predictedOne = scaling.predict(ranks: 1, globalBatch: b1, policy: policy)
                let measuredOne = double(one, "step_seconds") ?? .nan
                for run in group {
                    guard let p = run["ranks"] as? Int, let b = run["batch_size"] as? Int,
                          let measured = double(run, "step_seconds"), let t = run["times"] as? [String: Any] else { continue }
                    let scale = max(1, Double(p * threads) / Double(cores))
                    let s = scaling.predict(ranks: p, globalBatch: b, policy: policy, computeScale: scale)
                    let predicted = s.stepSeconds(overlap: true)
                    let error = predicted / measured - 1
                    let calibrated = allreduceEfficiency.map { predicted - s.allreduce + s.allreduce / $0 }
                    if p > 1 {
                        errors.append(abs(error))
                        if let c = calibrated { calibratedErrors.append(abs(c / measured - 1)) }
                    }
                    let measuredComm = ["exposed_allreduce", "selection", "waiting"].reduce(0.0) { $0 + (double(t, $1) ?? 0) }
                    let measuredCompute = ["data", "scoring", "forward_backward", "optimizer"].reduce(0.0) { $0 + (double(t, $1) ?? 0) }
                    let measuredEff = (Double(b) / measured) / (Double(p) * Double(b1) / measuredOne)
                    let predictedEff = s.samplesPerSecond(overlap: true) / (Double(p) * predictedOne.samplesPerSecond(overlap: true))
                    table.add([mode, policyName, "\(p)\(scale > 1 ? " (oversubscribed)" : "")", formatSeconds(measured), formatSeconds(predicted),
                               signedPct(error), formatSeconds(calibrated), signedPct(calibrated.map { $0 / measured - 1 }),
                               formatSeconds(measuredCompute), formatSeconds(s.compute),
                               formatSeconds(measuredComm), formatSeconds(s.communication(overlap: true)),
                               pct(measuredEff), pct(predictedEff)])
                    out.append(["mode": mode, "policy": policyName, "ranks": p, "batch_size": b, "measured_step_seconds": measured,
                                "predicted_step_seconds": predicted, "relative_error": error, "compute_scale": scale,
                                "predicted_compute_seconds": s.compute, "predicted_communication_seconds": s.communication(overlap: true),
                                "measured_communication_and_waiting_seconds": measuredComm, "measured_compute_seconds": measuredCompute,
                                "predicted_step_seconds_with_measured_allreduce": jsonValue(calibrated),
                                "measured_efficiency": measuredEff, "predicted_efficiency": predictedEff])
                }
            }
        }
        guard !out.isEmpty else { throw ValidationError("\(path) has no runs with a 1-rank baseline") }
        print(table.render())
        if !errors.isEmpty {
            let mean = errors.reduce(0, +) / Double(errors.count)
            print("\nmean |error| over the multi-rank runs: \(pct(mean)); largest \(pct(errors.max()!))"
                  + (calibratedErrors.isEmpty ? "" : "; with the measured allreduce: mean \(pct(calibratedErrors.reduce(0, +) / Double(calibratedErrors.count))), largest \(pct(calibratedErrors.max()!))")
                  + ". 1-rank rows are the inputs (their error is what the time split leaves out: selection, waiting, bookkeeping).")
        }
        print("measured compute = data + scoring + forward/backward + optimizer; measured comm+wait = exposed allreduce + selection")
        print("(loss exchange, waiting for the slowest scorer) + waiting; both from rank 0's time split. Steps are wall-clock means.")
        if let json {
            try writeJSON(["check": path, "config": name, "vocab_size": vocab, "rows": out,
                           "mean_abs_relative_error_multi_rank": errors.isEmpty ? NSNull() : errors.reduce(0, +) / Double(errors.count) as Any,
                           "mean_abs_relative_error_multi_rank_with_measured_allreduce":
                               calibratedErrors.isEmpty ? NSNull() : calibratedErrors.reduce(0, +) / Double(calibratedErrors.count) as Any,
                           "allreduce_fraction_of_bound": jsonValue(allreduceEfficiency)], to: json)
        }
    }

    /// `x`, or JSON null.
    func jsonValue<T>(_ x: T?) -> Any { x.map { $0 as Any } ?? NSNull() }

    /// Samples per second: one decimal below 100, none above.
    func rate(_ x: Double) -> String { fmt(x, x < 100 ? 1 : 0) }

    func readJSON(_ path: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ValidationError("\(path) is not a JSON object")
        }
        return root
    }

    func writeJSON(_ object: [String: Any], to path: String) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ValidationError("cannot write \(path): \(error.localizedDescription)")
        }
        print("wrote \(path)")
    }
}
