import Kernels
import Model
import SiftTestSupport
import XCTest

/// The layer only the head reads, run at the masked positions (`sparseLayerForward`), against the same
/// model with `denseLastLayer` (every position): the same losses, logits and gradients, dropout included.
final class SparseLastLayerTests: XCTestCase {
    /// `count` samples of `Fixtures.batch` (with padding), sample 2 with no masked position.
    func batch(_ config: BertConfig, seqLen: Int = 7, count: Int = 5) -> MLMBatch {
        var b = Fixtures.batch(config, count: count, seqLen: seqLen)
        for t in 0..<seqLen { b.labels[2 * seqLen + t] = MLMBatch.ignoredLabel }
        return b
    }

    /// Losses and gradients of one `forwardBackward` with the last layer dense or sparse.
    func run(_ model: BertForMaskedLM, _ batch: MLMBatch, dense: Bool, seed: UInt64?) -> ([SampleLoss], [Float]) {
        model.denseLastLayer = dense
        defer { model.denseLastLayer = false }
        model.gradients.zero()
        let losses = model.forwardBackward(batch, lossWeight: 0.3, dropoutSeed: seed)
        return (losses, model.gradients.array)
    }

    /// Largest |a − b| over all elements, and over the largest |b| (for the report).
    func largestDifference(_ a: [Float], _ b: [Float]) -> (absolute: Float, relative: Float) {
        var worst: Float = 0, scale: Float = 0
        for i in a.indices {
            worst = max(worst, abs(a[i] - b[i]))
            scale = max(scale, abs(b[i]))
        }
        return (worst, worst / max(scale, .leastNormalMagnitude))
    }

    func checkTraining(_ config: BertConfig, seqLen: Int, count: Int = 5, seed: UInt64?) {
        let model = Fixtures.randomModel(config, seed: 41)
        let batch = batch(config, seqLen: seqLen, count: count)
        let (denseLosses, denseGradients) = run(model, batch, dense: true, seed: seed)
        let (sparseLosses, sparseGradients) = run(model, batch, dense: false, seed: seed)
        var lossGap: Float = 0
        for b in 0..<batch.count {
            XCTAssertEqual(sparseLosses[b].maskedTokens, denseLosses[b].maskedTokens)
            XCTAssertEqual(sparseLosses[b].correct, denseLosses[b].correct)
            lossGap = max(lossGap, abs(sparseLosses[b].lossSum - denseLosses[b].lossSum) / max(1, abs(denseLosses[b].lossSum)))
        }
        let gap = largestDifference(sparseGradients, denseGradients)
        // The two paths compute the same sums in other orders: the weight gradients sum over the rows (B·T
        // dense, fewer sparse), which OpenBLAS blocks by shape and kernel family, and the error compounds
        // through the layers. Bound: two summation orders of the longest reduction, 2·γ_n with n = B·T, once
        // per layer the error passes through, taken relative to the largest gradient (the largest Σ|terms|
        // is of its order). It allows 3.7e-4 at H 128, T 128, B 8 (seen: 9.1e-8 with Zen 4's AVX-512
        // kernels, 1.27e-6 with Zen 3's AVX2 ones); a wrong row or position moves gradients by 1e-2 or more.
        let rows = batch.count * seqLen
        let gradientBound = RoundingBound.twoOrders(terms: rows) * Float(config.numLayers + 1)
        let lossBound = RoundingBound.twoOrders(terms: max(config.hiddenSize, config.intermediateSize))
        print(
            "sparse vs dense last layer, H \(config.hiddenSize) T \(seqLen) dropout \(seed != nil): "
                + "loss \(lossGap) (bound \(lossBound)), gradients \(gap.absolute) (\(gap.relative) of the largest; bound \(gradientBound))"
        )
        XCTAssertLessThanOrEqual(lossGap, lossBound, "losses differ")
        XCTAssertLessThanOrEqual(gap.relative, gradientBound, "gradients differ")
        // The earlier layers' gradients come through the last layer's input gradient: not all zero.
        let first = model.layout.layers[0]
        XCTAssertTrue(sparseGradients[first.start..<model.layout.layers[1].start].contains { $0 != 0 })
    }

    func testTrainingEqualsTheDenseLastLayer() { checkTraining(Fixtures.smallConfig(), seqLen: 7, seed: nil) }

    func testTrainingEqualsTheDenseLastLayerWithDropout() {
        checkTraining(Fixtures.smallConfig(dropout: 0.2), seqLen: 7, seed: 0xD0)
    }

    func testTrainingEqualsTheDenseLastLayerAtALargerSize() {
        let config = BertConfig(
            vocabSize: 61, hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 256,
            maxPositions: 48, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1,
            attentionDropout: 0.1, initializerRange: 0.02)
        checkTraining(config, seqLen: 48, seed: 5)
    }

    /// tiny's width at T 128 and B 8: 1,024 rows, more than one block of OpenBLAS's row-sum products.
    func testTrainingEqualsTheDenseLastLayerAtTinyWidth() {
        let config = BertConfig(
            vocabSize: 97, hiddenSize: 128, numLayers: 2, numHeads: 2, intermediateSize: 512,
            maxPositions: 128, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1,
            attentionDropout: 0.1, initializerRange: 0.02)
        checkTraining(config, seqLen: 128, count: 8, seed: 6)
    }

    /// The scoring forward's exit layer: the same losses and logits at every exit layer, in chunks.
    func testScoringEqualsTheDenseExitLayer() {
        let config = Fixtures.smallConfig(layers: 3)
        let model = Fixtures.randomModel(config, seed: 42)
        let batch = batch(config)
        model.scoringChunk = 2
        for exit in 1...3 {
            model.denseLastLayer = true
            let dense = model.maskedLogits(batch, exitLayer: exit), denseLosses = model.sampleLosses(batch, exitLayer: exit)
            model.denseLastLayer = false
            let sparse = model.maskedLogits(batch, exitLayer: exit), sparseLosses = model.sampleLosses(batch, exitLayer: exit)
            XCTAssertEqual(sparse.positions, dense.positions)
            let gap = largestDifference(sparse.logits, dense.logits)
            print("sparse vs dense exit layer \(exit): logits \(gap.absolute)")
            XCTAssertLessThanOrEqual(gap.relative, 1e-6, "exit \(exit): logits differ")
            for b in 0..<batch.count {
                XCTAssertEqual(sparseLosses[b].lossSum, denseLosses[b].lossSum, accuracy: 1e-6 * max(1, abs(denseLosses[b].lossSum)))
            }
        }
    }

    /// The training forward's logits at the masked rows (through `sampleLosses` at the last layer, which
    /// without dropout is the same function) equal the dense ones, and the training losses the scored ones.
    func testTrainingLossesEqualScoredLossesAtTheLastLayer() {
        let config = Fixtures.smallConfig()
        let model = Fixtures.randomModel(config, seed: 43)
        let batch = batch(config)
        let trained = run(model, batch, dense: false, seed: nil).0
        model.denseLastLayer = true
        let scored = model.sampleLosses(batch, exitLayer: config.numLayers)
        model.denseLastLayer = false
        for b in 0..<batch.count { XCTAssertEqual(trained[b].lossSum, scored[b].lossSum, accuracy: 1e-6 * max(1, abs(scored[b].lossSum))) }
    }
}
