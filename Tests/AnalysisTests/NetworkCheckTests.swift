import Analysis
import CostModel
import Foundation
import Model
import SiftTestSupport
import XCTest

/// The network check's arithmetic against closed forms worked out here: the per-bucket cost and the
/// overlap progress in a step's prediction, and the link fit's recovery of the parameters that made
/// its data. No timings.
final class NetworkCheckTests: XCTestCase {
    let profile = ComputeProfile(forwardBackwardPerSample: 0.01, scoringPerSample: 0.002, backwardFraction: 2.0 / 3)

    /// 10 MB in 3 buckets, 2 MB of it in 1 tail bucket; β 100 MB/s, α 100 µs.
    func model(perBucket: Double, progress: Double) -> ScalingModel {
        var m = ScalingModel(
            gradientBytes: 10e6, tailBytes: 2e6, buckets: 3, tailBuckets: 1, compute: profile,
            medium: .network(bandwidth: 1e8, latency: 1e-4), microBatch: 32)
        m.perBucketSeconds = perBucket
        m.overlapProgress = progress
        return m
    }

    func testDefaultsLeaveTheModelUnchanged() {
        let plain = ScalingModel(
            gradientBytes: 10e6, tailBytes: 2e6, buckets: 3, tailBuckets: 1, compute: profile,
            medium: .network(bandwidth: 1e8, latency: 1e-4), microBatch: 32)
        for p in [1, 2, 3, 8] {
            for policy in [ProjectedPolicy.vanilla, .sift(selectFraction: 0.5)] {
                XCTAssertEqual(
                    plain.predict(ranks: p, globalBatch: 16 * p, policy: policy),
                    model(perBucket: 0, progress: 1).predict(ranks: p, globalBatch: 16 * p, policy: policy))
            }
        }
    }

    func testPerBucketCostAndOverlapProgressAtTwoRanks() {
        let alpha = 1e-4, beta = 1e8, c = 5e-4, f = 0.5
        // Two ranks: each ring moves S over each link and pays 2 rounds of α per bucket, plus c per bucket.
        let total = 3 * (2 * alpha + c) + 10e6 / beta
        let body = 2 * (2 * alpha + c) + 8e6 / beta
        let tail = 1 * (2 * alpha + c) + 2e6 / beta
        // 16 samples per rank, all in the last micro-batch: backward = 2/3 · 16 · 10 ms, progressing half of it.
        let backward = f * (2.0 / 3) * 16 * 0.01
        let s = model(perBucket: c, progress: f).predict(ranks: 2, globalBatch: 32, policy: .vanilla)
        XCTAssertEqual(s.allreduce, total, accuracy: 1e-15)
        XCTAssertEqual(s.exposedAllreduceWithOverlap, max(0, body - backward) + tail, accuracy: 1e-15)
        XCTAssertEqual(
            s.communication(overlap: false) - s.communication(overlap: true), total - (body - backward + tail),
            accuracy: 1e-15)
        // No progress during backward: overlap hides nothing (body and tail rings add up to the whole).
        let none = model(perBucket: c, progress: 0).predict(ranks: 2, globalBatch: 32, policy: .vanilla)
        XCTAssertEqual(none.exposedAllreduceWithOverlap, none.allreduce, accuracy: 1e-15)
        // One rank reduces nothing, per-bucket cost or not.
        XCTAssertEqual(model(perBucket: c, progress: f).predict(ranks: 1, globalBatch: 16, policy: .vanilla).allreduce, 0)
    }

    func testLinkMedium() {
        let link = LinkParameters(efficiency: 0.9)
        XCTAssertEqual(link.medium(rateBitsPerSecond: 1e9, latency: 2e-5), .network(bandwidth: 0.9e9 / 8, latency: 2e-5))
        XCTAssertEqual(link.medium(rateBitsPerSecond: nil, latency: 2e-5), .network(bandwidth: .infinity, latency: 2e-5))
        XCTAssertEqual(LinkParameters().efficiency, 1448.0 / 1514.0)
    }

    /// Points made by the fit's own equation with known c and e are fitted back exactly; unshaped
    /// points (whose rate is unknown) are ignored, whatever their times.
    func testFitRecoversThePerBucketCostAndPayloadShare() throws {
        let c = 3e-4, e = 0.93
        var points: [NetworkCheck.AllreducePoint] = []
        for (i, rate) in [5e8, 1e9, 2.5e9, 1e10].enumerated() {
            let alpha = 2e-5 * Double(i + 1)
            for (bytes, n) in [(21.6e6, 6), (13.6e6, 4)] {
                let t = Double(n) * (2 * alpha + c) + bytes / (e * rate / 8)
                points.append(.init(bytes: bytes, buckets: n, seconds: t, rateBitsPerSecond: rate, latency: alpha))
            }
        }
        points.append(.init(bytes: 21.6e6, buckets: 6, seconds: 123, rateBitsPerSecond: nil, latency: 1e-5))
        let fit = try XCTUnwrap(NetworkCheck.fit(points))
        XCTAssertEqual(fit.perBucketSeconds, c, accuracy: c * 1e-9)
        XCTAssertEqual(fit.efficiency, e, accuracy: e * 1e-9)
        XCTAssertEqual(fit.points, 8)
    }

    func testFitNeedsTwoShapedPointsAndStaysPhysical() throws {
        let one = NetworkCheck.AllreducePoint(bytes: 8e6, buckets: 2, seconds: 0.07, rateBitsPerSecond: 1e9, latency: 0)
        XCTAssertNil(NetworkCheck.fit([one]))
        XCTAssertNil(NetworkCheck.fit([one, .init(bytes: 8e6, buckets: 2, seconds: 1, rateBitsPerSecond: nil, latency: 0)]))
        // Two identical points cannot separate c from e: c is 0 and e comes from the bytes alone (8·8e6/1e9 / 0.07).
        let same = try XCTUnwrap(NetworkCheck.fit([one, one]))
        XCTAssertEqual(same.perBucketSeconds, 0)
        XCTAssertEqual(same.efficiency, 0.064 / 0.07, accuracy: 1e-12)
        // Faster than the wire allows (e > 1.5): no fit.
        let fast = NetworkCheck.AllreducePoint(bytes: 8e6, buckets: 2, seconds: 0.01, rateBitsPerSecond: 1e9, latency: 0)
        XCTAssertNil(NetworkCheck.fit([fast, fast]))
    }

    /// Without --overlap-progress the check fits it: overlapped runs whose exposed allreduce was made by the
    /// model's own equation with progress 0.3 (e = 1, α = 0, no per-bucket cost) give back 0.3, and a given
    /// progress is kept.
    func testTheOverlapProgressIsFittedOnTheOverlappedRuns() throws {
        let config = BertConfig.named("tiny", vocabSize: 400)!
        let split = ScalingModel.bucketSplit(config: config, bucketBytes: Int(0.05 * 1_048_576))
        let fb = 0.4, f = 0.3
        func run(_ rate: String, _ bits: Double?, overlap: Bool) -> [String: Any] {
            var exposed = 0.01
            if let bits, overlap {
                let body = (split.bytes - split.tailBytes) * 8 / bits, tail = split.tailBytes * 8 / bits
                XCTAssertGreaterThan(body, f * (2.0 / 3) * fb, "the body must outlast the progressing share of backward")
                exposed = max(0, body - f * (2.0 / 3) * fb) + tail
            }
            var r: [String: Any] = [
                "rate": rate, "model": "tiny", "policy": "vanilla", "overlap": overlap, "hosts": 2, "ranks": 2,
                "batch_size": 32, "per_rank_batch": 16, "bucket_mb": 0.05, "micro_batch": 32, "step_s": 1.0,
                "times": [
                    "data": 0.0, "scoring": 0.0, "selection": 0.0, "forward_backward": fb,
                    "exposed_allreduce": exposed, "optimizer": 0.0, "waiting": 0.0
                ]
            ]
            if let bits { r["rate_bits_per_s"] = bits }
            return r
        }
        let doc: [String: Any] = [
            "hosts": 2, "cores": 2, "vocab_size": 400, "seq_len": 128, "steps": 12,
            "runs": [
                run("unlimited", nil, overlap: true), run("10mbit", 1e7, overlap: true),
                run("20mbit", 2e7, overlap: true), run("unlimited", nil, overlap: false),
                run("10mbit", 1e7, overlap: false)
            ]
        ]
        let path = temporaryDirectory("progress-fit") + "/network.json"
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: path))
        let fitted = try NetworkCheck.run(path: path, efficiency: 1, latency: 0, perBucketSeconds: 0, say: { _ in })
        XCTAssertEqual(fitted.overlapProgress, f, accuracy: 1e-12)
        let given = try NetworkCheck.run(path: path, efficiency: 1, latency: 0, perBucketSeconds: 0, overlapProgress: 0.8, say: { _ in })
        XCTAssertEqual(given.overlapProgress, 0.8)
    }
}
