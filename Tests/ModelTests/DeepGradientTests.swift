import Kernels
import Model
import XCTest

/// deep12's depth at a width small enough for finite differences: the analytic gradient of a 12-layer
/// encoder (the depth of the exit-layer experiments' deep model) against central differences.
final class DeepGradientTests: XCTestCase {
    func testTwelveLayerGradientsMatchFiniteDifferences() {
        let config = Fixtures.smallConfig(layers: 12)
        let model = Fixtures.randomModel(config, seed: 21)
        // Smaller weights than the default fixture keep twelve post-LN layers well-conditioned for
        // differences in Float: every parameter scaled toward its initialisation value.
        for t in model.layout.tensors {
            for i in 0..<t.count {
                let p = model.parameters[t.offset + i]
                model.parameters[t.offset + i] = t.initialisation == .ones ? 1 + 0.5 * (p - 1) : 0.5 * p
            }
        }
        let batch = Fixtures.batch(config)
        model.gradients.zero()
        _ = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: nil)
        let analytic = model.gradients.array
        var rng = TestRandom(9)
        let eps: Float = 1e-2
        var failures = 0, checked = 0
        // Two elements of every tensor of the first, a middle and the last layer, and of the embeddings and head.
        let layerNames = ["layer.0.", "layer.6.", "layer.11."]
        for t in model.layout.tensors where !t.name.contains("layer.") || layerNames.contains(where: t.name.contains) {
            let limit = t.name.contains("position_embeddings") ? batch.seqLen * config.hiddenSize : t.count
            for _ in 0..<2 {
                let i = t.offset + rng.below(limit)
                let saved = model.parameters[i]
                model.parameters[i] = saved + eps
                let plus = Fixtures.totalLoss(model.sampleLosses(batch, exitLayer: 12))
                model.parameters[i] = saved - eps
                let minus = Fixtures.totalLoss(model.sampleLosses(batch, exitLayer: 12))
                model.parameters[i] = saved
                let numeric = (plus - minus) / Double(2 * eps)
                let a = Double(analytic[i])
                checked += 1
                if abs(a - numeric) > 3e-3 + 3e-2 * max(abs(a), abs(numeric)) {
                    failures += 1
                    XCTFail("\(t.name)[\(i - t.offset)]: analytic \(a) vs numeric \(numeric)")
                }
            }
        }
        XCTAssertGreaterThan(checked, 40)
        XCTAssertEqual(failures, 0, "\(failures) of \(checked) gradient checks failed")
    }
}
