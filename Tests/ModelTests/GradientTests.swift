import Kernels
import Model
import XCTest

final class GradientTests: XCTestCase {
    /// Whole-model analytic gradient vs central differences on elements sampled from every tensor. By
    /// default the last layer (and the loss without dropout, `sampleLosses`' exit layer) runs at the
    /// masked positions only; `denseLastLayer` checks the dense path as well.
    func checkGradients(dropoutSeed: UInt64?, dropout: Float, denseLastLayer: Bool = false) {
        let config = Fixtures.smallConfig(dropout: dropout)
        let model = Fixtures.randomModel(config, seed: 11)
        model.denseLastLayer = denseLastLayer
        let batch = Fixtures.batch(config)
        XCTAssertGreaterThan(batch.maskedTokenCount, 3)
        let lossWeight: Float = 0.7
        model.gradients.zero()
        _ = model.forwardBackward(batch, lossWeight: lossWeight, dropoutSeed: dropoutSeed)
        let analytic = model.gradients.array
        func loss() -> Double {
            let losses =
                dropoutSeed == nil
                ? model.sampleLosses(batch, exitLayer: config.numLayers)
                : model.forwardBackward(batch, lossWeight: 0, dropoutSeed: dropoutSeed)
            return Double(lossWeight) * Fixtures.totalLoss(losses)
        }
        var rng = TestRandom(5)
        let eps: Float = 1e-2
        var checked = 0, failures = 0
        for t in model.layout.tensors {
            // Positions beyond T never get gradient; sample from rows that are used.
            let limit = t.name.contains("position_embeddings") ? batch.seqLen * config.hiddenSize : t.count
            var nonzero = 0
            for _ in 0..<6 {
                let i = t.offset + rng.below(limit)
                let saved = model.parameters[i]
                model.parameters[i] = saved + eps
                let plus = loss()
                model.parameters[i] = saved - eps
                let minus = loss()
                model.parameters[i] = saved
                let numeric = (plus - minus) / Double(2 * eps)
                let a = Double(analytic[i])
                if abs(a) > 1e-3 { nonzero += 1 }
                checked += 1
                if abs(a - numeric) > 3e-3 + 3e-2 * max(abs(a), abs(numeric)) {
                    failures += 1
                    XCTFail("\(t.name)[\(i - t.offset)]: analytic \(a) vs numeric \(numeric)")
                }
            }
            // The key bias shifts every score of a query row equally, so softmax makes its gradient exactly 0.
            if !t.name.contains("key.bias") { XCTAssertGreaterThan(nonzero, 0, "\(t.name): all sampled gradients ~0") }
        }
        XCTAssertEqual(failures, 0, "\(failures) of \(checked) gradient checks failed")
    }

    func testGradientsMatchFiniteDifferencesWithoutDropout() { checkGradients(dropoutSeed: nil, dropout: 0.1) }
    func testGradientsMatchFiniteDifferencesWithDropout() { checkGradients(dropoutSeed: 77, dropout: 0.2) }
    func testGradientsMatchFiniteDifferencesThroughTheDenseLastLayer() {
        checkGradients(dropoutSeed: 77, dropout: 0.2, denseLastLayer: true)
    }

    func testGradientsAccumulateAndReadyCallbacksComeInOrder() {
        let config = Fixtures.smallConfig()
        let model = Fixtures.randomModel(config, seed: 12)
        let batch = Fixtures.batch(config)
        model.gradients.zero()
        var offsets: [Int] = []
        var snapshots: [(Int, [Float])] = []
        var progressCalls = 0
        _ = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: nil) { offset in
            // Int.max: nothing new is final, only a chance to progress communication.
            if offset == Int.max {
                progressCalls += 1
                return
            }
            offsets.append(offset)
            snapshots.append((offset, Array(model.gradients.array[offset...])))
        }
        let expected = [model.layout.head.start] + model.layout.layers.reversed().map(\.start) + [0]
        XCTAssertEqual(offsets, expected)
        XCTAssertEqual(progressCalls, 7 * config.numLayers, "one progress call after each matrix product of every layer")
        let final = model.gradients.array
        for (offset, snap) in snapshots { XCTAssertEqual(Array(final[offset...]), snap, "gradients >= \(offset) changed after ready") }
        // A second call accumulates: gradients double.
        _ = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: nil)
        let doubled = model.gradients.array
        for i in stride(from: 0, to: final.count, by: 7) { XCTAssertEqual(doubled[i], 2 * final[i], accuracy: 1e-5 + 1e-5 * abs(final[i])) }
    }
}
