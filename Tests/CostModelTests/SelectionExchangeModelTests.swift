import CostModel
import Foundation
import Selection
import XCTest

/// The scaling model's two selection exchanges against their closed forms. On a network of latency α
/// and bandwidth β at p ranks (L = ⌈log₂ p⌉ rounds per small collective), for a pool of B candidates:
///   allgather  = L·α + (p−1)/p · 4B/β
///   threshold  = 8·L·α + L·α + (p−1)/p · m/β,  m = Σ_r ⌈share_r/8⌉ ∈ [B/8, B/8 + p)
/// so the threshold exchange is cheaper once (p−1)/p·(4B − m)/β > 8·L·α.
final class SelectionExchangeModelTests: XCTestCase {
    let alpha = 20e-6, beta = 25e9 / 8
    var net: CommunicationMedium { .network(bandwidth: beta, latency: alpha) }

    func testExchangeSecondsMatchTheClosedForms() {
        for p in [2, 3, 4, 8, 64, 1000] {
            for pool in [64 * p, 800 * p, 100_000 * p] {  // multiples of 8p: no padding in the mask
                let L = ceil(log2(Double(p))), f = Double(p - 1) / Double(p)
                let allgather = L * alpha + f * 4 * Double(pool) / beta
                let threshold = 9 * L * alpha + f * Double(pool) / 8 / beta
                XCTAssertEqual(
                    ScalingModel.selectionExchangeSeconds(.allgather, pool: pool, ranks: p, medium: net), allgather,
                    accuracy: 1e-15, "p=\(p) pool=\(pool)")
                XCTAssertEqual(
                    ScalingModel.selectionExchangeSeconds(.threshold, pool: pool, ranks: p, medium: net), threshold,
                    accuracy: 1e-15, "p=\(p) pool=\(pool)")
                XCTAssertEqual(
                    ScalingModel.selectionExchangeSeconds(.auto, pool: pool, ranks: p, medium: net), min(allgather, threshold),
                    accuracy: 1e-15)
                XCTAssertEqual(
                    ScalingModel.selectionExchangeSeconds(.allgather, pool: pool, ranks: p, bytesPerCandidate: 8, medium: net),
                    L * alpha + f * 8 * Double(pool) / beta, accuracy: 1e-15)
            }
        }
        XCTAssertEqual(ScalingModel.selectionExchangeSeconds(.threshold, pool: 100, ranks: 1, medium: net), 0)
    }

    /// The crossover pool lies in the window the closed form gives, and is exact: cheaper there, not one
    /// candidate below. Example: 2 ranks on 25 GbE (α·β = 62,500 bytes) cross at about 258,000 candidates.
    func testCrossoverPoolMatchesTheClosedForm() throws {
        for p in [2, 3, 4, 16, 128, 1024] {
            let L = ceil(log2(Double(p)))
            let X = 8 * L * alpha * beta * Double(p) / Double(p - 1)  // bytes 4B − m must exceed
            let c = try XCTUnwrap(ScalingModel.thresholdCrossoverPool(ranks: p, medium: net), "p=\(p)")
            XCTAssertGreaterThan(Double(c), X * 8 / 31, "p=\(p)")
            XCTAssertLessThanOrEqual(Double(c), (X + Double(p)) * 8 / 31 + 1, "p=\(p)")
            XCTAssertEqual(ScalingModel.cheaperSelectionExchange(pool: c, ranks: p, medium: net), .threshold)
            XCTAssertEqual(ScalingModel.cheaperSelectionExchange(pool: c - 1, ranks: p, medium: net), .allgather)
        }
        let two = try XCTUnwrap(ScalingModel.thresholdCrossoverPool(ranks: 2, medium: net))
        XCTAssertTrue((258_065...258_582).contains(two), "\(two)")
        XCTAssertNil(ScalingModel.thresholdCrossoverPool(ranks: 1, medium: net))
        XCTAssertNil(ScalingModel.thresholdCrossoverPool(ranks: 4, medium: net, limit: 1000))
    }

    /// `auto` decides on the reference network, 25 GbE, as `sift project` assumes by default.
    func testAutoDecidesOnTheReferenceNetwork() {
        XCTAssertEqual(Interconnect.reference.name, "25gbe")
        XCTAssertEqual(ScalingModel.cheaperSelectionExchange(pool: 64, ranks: 2), .allgather)
        XCTAssertEqual(ScalingModel.cheaperSelectionExchange(pool: 10_000_000, ranks: 2), .threshold)
        XCTAssertEqual(ScalingModel.cheaperSelectionExchange(pool: 10_000_000, ranks: 1), .allgather)
    }

    /// The step prediction carries the exchange asked for; the default is the allgather it always modelled.
    func testPredictionUsesTheChosenExchange() {
        let m = ScalingModel(
            gradientBytes: 4e6, tailBytes: 1e6, buckets: 2, tailBuckets: 1,
            compute: ComputeProfile(forwardBackwardPerSample: 0.01, scoringPerSample: 0.001), medium: net)
        for (p, b) in [(2, 64), (8, 4_000_000)] {
            let pool = 2 * b
            let old = m.predict(ranks: p, globalBatch: b, policy: .sift(selectFraction: 0.5))
            XCTAssertEqual(old.selectionExchange, ScalingModel.allgatherSeconds(totalBytes: Double(4 * pool), ranks: p, medium: net))
            let t = m.predict(ranks: p, globalBatch: b, policy: .sift(selectFraction: 0.5), exchange: .threshold)
            XCTAssertEqual(t.selectionExchange, ScalingModel.selectionExchangeSeconds(.threshold, pool: pool, ranks: p, medium: net))
            let auto = m.predict(ranks: p, globalBatch: b, policy: .sift(selectFraction: 0.5), exchange: .auto)
            XCTAssertEqual(auto.selectionExchange, min(old.selectionExchange, t.selectionExchange))
            XCTAssertEqual(m.predict(ranks: p, globalBatch: b, policy: .vanilla, exchange: .threshold).selectionExchange, 0)
        }
    }
}
