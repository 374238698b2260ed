import CostModel
import Model
import XCTest

/// Properties of the scaling model that a wrong formula would break. No timings: the inputs are
/// made-up compute times, the checks are relations and independently derived closed forms.
final class ScalingModelTests: XCTestCase {
    let profile = ComputeProfile(
        forwardBackwardPerSample: 0.05, scoringPerSample: 0.004, dataPerSample: 0.0002,
        optimizerPerStep: 0.03)
    let ranks = [1, 2, 3, 4, 8, 16, 64, 256, 1024]

    func model(_ medium: CommunicationMedium, config: String = "base") -> ScalingModel {
        ScalingModel(config: BertConfig.named(config, vocabSize: 30522)!, bucketBytes: 4 << 20, compute: profile, medium: medium)
    }

    /// A deterministic pseudo-random sequence for property checks over many settings.
    struct Draws {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) * 0x1p-53
        }
        /// Log-uniform in [lo, hi].
        mutating func logUniform(_ lo: Double, _ hi: Double) -> Double { lo * pow(hi / lo, next()) }
    }

    func testEfficiencyApproachesOneAsTheNetworkBecomesFree() {
        var last = [Int: Double]()
        for gbps in [1.0, 10, 100, 1e3, 1e5, 1e9, 1e15] {
            let m = model(.network(bandwidth: gbps * 1e9 / 8, latency: 1e-6 * 100 / gbps))
            for p in ranks {
                for policy in [ProjectedPolicy.vanilla, .sift(selectFraction: 0.5)] {
                    let e = m.efficiency(ranks: p, globalBatch: 32 * p, baselineBatch: 32, policy: policy, overlap: false)
                    XCTAssertLessThanOrEqual(e, 1 + 1e-12)
                    if policy == .vanilla {
                        // More bandwidth and less latency can only help.
                        if let prev = last[p] { XCTAssertGreaterThanOrEqual(e, prev - 1e-12, "p=\(p) at \(gbps) Gb/s") }
                        last[p] = e
                    }
                }
            }
        }
        for p in ranks { XCTAssertEqual(last[p]!, 1, accuracy: 1e-6, "p=\(p)") }
    }

    func testRingAllreduceAtTwoRanksMatchesAnIndependentCount() {
        // Two ranks, one ring per bucket: reduce-scatter sends half the bucket each way, allgather the
        // other half, so each rank's link carries S bytes; two message rounds per bucket.
        let bytes = 10_000_000.0, beta = 1.25e9, alpha = 7e-6
        let buckets = Int((bytes / Double(4 << 20)).rounded(.up))
        let expected = Double(2 * buckets) * alpha + bytes / beta
        XCTAssertEqual(
            ScalingModel.ringAllreduceSeconds(
                bytes: bytes, ranks: 2, buckets: buckets,
                medium: .network(bandwidth: beta, latency: alpha)),
            expected, accuracy: expected * 1e-12)
        // Shared memory, two ranks: the reduce-scatter reads both halves of both ranks' buffers and
        // writes half of each (3·S of triad traffic); the allgather copies half of each (2·S of copy traffic).
        let copy = 9e9, triad = 8e9
        let sharedExpected = Double(2 * buckets) * alpha + 3 * bytes / triad + 2 * bytes / copy
        XCTAssertEqual(
            ScalingModel.ringAllreduceSeconds(
                bytes: bytes, ranks: 2, buckets: buckets,
                medium: .sharedMemory(copyBandwidth: copy, triadBandwidth: triad, latency: alpha)),
            sharedExpected, accuracy: sharedExpected * 1e-12)
        // One rank reduces nothing.
        XCTAssertEqual(
            ScalingModel.ringAllreduceSeconds(
                bytes: bytes, ranks: 1, buckets: buckets,
                medium: .network(bandwidth: beta, latency: alpha)), 0)
    }

    func testRingBandwidthTermApproachesTwiceTheBytes() {
        // The ring's per-link traffic 2(p−1)/p·S tends to 2S: at large p, with no latency, the time
        // tends to 2S/β from below.
        let bytes = 4.4e8, beta = 1e10
        var previous = 0.0
        for p in ranks where p > 1 {
            let t = ScalingModel.ringAllreduceSeconds(bytes: bytes, ranks: p, buckets: 1, medium: .network(bandwidth: beta, latency: 0))
            XCTAssertGreaterThan(t, previous)
            XCTAssertLessThan(t, 2 * bytes / beta)
            previous = t
        }
        XCTAssertEqual(previous, 2 * bytes / beta, accuracy: 2 * bytes / beta * 2e-3)
    }

    func testOverlapNeverMakesAStepSlower() {
        var draws = Draws(state: 42)
        for _ in 0..<300 {
            let compute = ComputeProfile(
                forwardBackwardPerSample: draws.logUniform(1e-4, 2), scoringPerSample: draws.logUniform(1e-5, 0.5),
                dataPerSample: draws.logUniform(1e-6, 1e-2), optimizerPerStep: draws.logUniform(1e-4, 1))
            let medium = CommunicationMedium.network(bandwidth: draws.logUniform(1e8, 1e11), latency: draws.logUniform(1e-7, 1e-4))
            let config = ["tiny", "mini", "small", "medium", "base"][Int(draws.next() * 5)]
            let m = ScalingModel(
                config: BertConfig.named(config, vocabSize: 30522)!, bucketBytes: Int(draws.logUniform(1e5, 1e8)),
                compute: compute, medium: medium, microBatch: 1 + Int(draws.next() * 64))
            let p = ranks[Int(draws.next() * Double(ranks.count))]
            let b = p * (1 + Int(draws.next() * 64))
            for policy in [ProjectedPolicy.vanilla, .sift(selectFraction: 0.1 + 0.9 * draws.next())] {
                let s = m.predict(ranks: p, globalBatch: b, policy: policy)
                XCTAssertLessThanOrEqual(s.stepSeconds(overlap: true), s.stepSeconds(overlap: false) * (1 + 1e-12))
                XCTAssertLessThanOrEqual(s.exposedAllreduceWithOverlap, s.allreduce * (1 + 1e-12))
                XCTAssertGreaterThanOrEqual(s.exposedAllreduceWithOverlap, 0)
            }
        }
    }

    func testOverlapHidesEverythingButTheTailWhenBackwardIsLong() {
        let slow = ComputeProfile(forwardBackwardPerSample: 1e3, scoringPerSample: 0)
        let m = ScalingModel(
            config: BertConfig.named("base", vocabSize: 30522)!, bucketBytes: 4 << 20, compute: slow,
            medium: .network(bandwidth: 1e9, latency: 1e-5))
        let s = m.predict(ranks: 16, globalBatch: 16 * 8, policy: .vanilla)
        let tail = ScalingModel.ringAllreduceSeconds(bytes: m.tailBytes, ranks: 16, buckets: m.tailBuckets, medium: m.medium)
        XCTAssertEqual(s.exposedAllreduceWithOverlap, tail, accuracy: tail * 1e-12)
        XCTAssertGreaterThan(s.allreduce, tail)
        // On shared memory the cores make the copies, so overlap hides nothing.
        let shared = ScalingModel(
            config: BertConfig.named("base", vocabSize: 30522)!, bucketBytes: 4 << 20, compute: slow,
            medium: .sharedMemory(copyBandwidth: 1e10, triadBandwidth: 1e10, latency: 1e-6))
        let t = shared.predict(ranks: 2, globalBatch: 16, policy: .vanilla)
        XCTAssertEqual(t.exposedAllreduceWithOverlap, t.allreduce)
    }

    func testTheTailHoldsTheEmbeddings() {
        for name in ["tiny", "base"] {
            let config = BertConfig.named(name, vocabSize: 30522)!
            let layout = ParameterLayout(config: config)
            for bucket in [1 << 16, 4 << 20, 64 << 20, 1 << 30] {
                let split = ScalingModel.bucketSplit(config: config, bucketBytes: bucket)
                XCTAssertEqual(split.bytes, Double(layout.totalCount * 4))
                XCTAssertGreaterThanOrEqual(split.tailBytes, Double(layout.layers[0].start * 4))
                XCTAssertLessThanOrEqual(split.tailBytes, split.bytes)
                XCTAssertGreaterThanOrEqual(split.tailBuckets, 1)
                XCTAssertLessThanOrEqual(split.tailBuckets, split.buckets)
                XCTAssertEqual(split.buckets, (layout.totalCount * 4 + bucket - 1) / bucket)
            }
        }
    }

    func testMoreRanksNeverHelpAWeaklyScaledStep() {
        for medium in [
            CommunicationMedium.network(bandwidth: 25e9 / 8, latency: 20e-6),
            .network(bandwidth: 200e9 / 8, latency: 1e-6),
            .sharedMemory(copyBandwidth: 1e10, triadBandwidth: 9e9, latency: 5e-7)
        ] {
            let m = model(medium)
            for policy in [ProjectedPolicy.vanilla, .sift(selectFraction: 0.5)] {
                for overlap in [false, true] {
                    var previous: (step: Double, efficiency: Double, allreduce: Double)?
                    for p in ranks {
                        let s = m.predict(ranks: p, globalBatch: 32 * p, policy: policy)
                        let e = m.efficiency(ranks: p, globalBatch: 32 * p, baselineBatch: 32, policy: policy, overlap: overlap)
                        if let prev = previous {
                            XCTAssertGreaterThanOrEqual(s.stepSeconds(overlap: overlap), prev.step)
                            XCTAssertLessThanOrEqual(e, prev.efficiency + 1e-12)
                            XCTAssertGreaterThanOrEqual(s.allreduce, prev.allreduce)
                        }
                        previous = (s.stepSeconds(overlap: overlap), e, s.allreduce)
                    }
                }
            }
        }
    }

    func testStrongScalingSplitsTheBatchAndStaysBelowLinear() {
        let m = model(.network(bandwidth: 100e9 / 8, latency: 2e-6))
        for p in ranks {
            let s = m.predict(ranks: p, globalBatch: 1024, policy: .sift(selectFraction: 0.5))
            XCTAssertEqual(s.perRankBatch, (1024 + p - 1) / p)
            XCTAssertEqual(s.perRankPool, (2048 + p - 1) / p)
            let e = m.efficiency(ranks: p, globalBatch: 1024, baselineBatch: 1024, policy: .sift(selectFraction: 0.5), overlap: true)
            XCTAssertLessThanOrEqual(e, 1 + 1e-12)
            XCTAssertGreaterThan(e, 0)
        }
    }

    func testSiftAddsScoringAndTheLossExchangeOnly() {
        let m = model(.network(bandwidth: 25e9 / 8, latency: 20e-6))
        for p in ranks {
            let v = m.predict(ranks: p, globalBatch: 32 * p, policy: .vanilla)
            let s = m.predict(ranks: p, globalBatch: 32 * p, policy: .sift(selectFraction: 0.5))
            XCTAssertEqual(v.scoring, 0)
            XCTAssertEqual(v.selectionExchange, 0)
            XCTAssertEqual(s.allreduce, v.allreduce)
            XCTAssertEqual(s.scoring, Double(64) * profile.scoringPerSample, accuracy: 1e-12)
            // The extra compute is the scoring plus loading the candidates.
            XCTAssertEqual(s.compute - v.compute, s.scoring + 64 * profile.dataPerSample, accuracy: 1e-9)
            if p > 1 { XCTAssertGreaterThan(s.selectionExchange, 0) }
            XCTAssertGreaterThan(s.stepSeconds(overlap: true), v.stepSeconds(overlap: true))
        }
    }

    func testComputeScaleSlowsComputeOnly() {
        let m = model(.sharedMemory(copyBandwidth: 1e10, triadBandwidth: 9e9, latency: 1e-6))
        let a = m.predict(ranks: 4, globalBatch: 32, policy: .vanilla)
        let b = m.predict(ranks: 4, globalBatch: 32, policy: .vanilla, computeScale: 2)
        XCTAssertEqual(b.compute, 2 * a.compute, accuracy: 1e-12)
        XCTAssertEqual(b.communication(overlap: false), a.communication(overlap: false))
    }

    func testPresetsAreConsistent() {
        XCTAssertEqual(Set(Interconnect.presets.map(\.name)).count, Interconnect.presets.count)
        for preset in Interconnect.presets {
            XCTAssertEqual(Interconnect.preset(named: preset.name.uppercased()), preset)
            guard case .network(let bw, let lat) = preset.medium else { return XCTFail("\(preset.name) is not a network") }
            XCTAssertEqual(bw * 8 / 1e9, preset.bandwidthGbps, accuracy: 1e-9)
            XCTAssertEqual(lat * 1e6, preset.latencyMicroseconds, accuracy: 1e-9)
        }
        XCTAssertNil(Interconnect.preset(named: "carrier-pigeon"))
    }
}
