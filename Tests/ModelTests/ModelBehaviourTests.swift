import Kernels
import Model
import XCTest

final class ModelBehaviourTests: XCTestCase {
    func testInitialisationFollowsHuggingFace() {
        let config = BertConfig(vocabSize: 50, hiddenSize: 32, numLayers: 2, numHeads: 4, padTokenId: 3)
        let model = BertForMaskedLM(config: config, seed: 1)
        let again = BertForMaskedLM(config: config, seed: 1), other = BertForMaskedLM(config: config, seed: 2)
        XCTAssertEqual(model.parameters.array, again.parameters.array)
        XCTAssertNotEqual(model.parameters.array, other.parameters.array)
        for t in model.layout.tensors {
            let v = (0..<t.count).map { Double(model.parameters[t.offset + $0]) }
            switch t.initialisation {
            case .zeros: XCTAssertTrue(v.allSatisfy { $0 == 0 }, t.name)
            case .ones: XCTAssertTrue(v.allSatisfy { $0 == 1 }, t.name)
            case .normal:
                let mean = v.reduce(0, +) / Double(v.count)
                let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
                if v.count >= 1000 {
                    XCTAssertEqual(sd, 0.02, accuracy: 0.003, t.name)
                    XCTAssertEqual(mean, 0, accuracy: 0.003, t.name)
                }
            }
        }
        let pad = model.layout.embeddings.wordEmbeddings + 3 * 32
        XCTAssertTrue((0..<32).allSatisfy { model.parameters[pad + $0] == 0 })
    }

    func testEvaluateAtLastLayerEqualsForwardBackwardAndChunkingIsInvisible() {
        let config = Fixtures.smallConfig()
        let model = Fixtures.randomModel(config, seed: 21)
        let batch = Fixtures.batch(config, count: 5)
        let trained = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: nil)
        let scored = model.sampleLosses(batch, exitLayer: config.numLayers)
        model.scoringChunk = 2
        let chunked = model.sampleLosses(batch, exitLayer: config.numLayers)
        for b in 0..<batch.count {
            XCTAssertEqual(trained[b].maskedTokens, scored[b].maskedTokens)
            XCTAssertEqual(trained[b].correct, scored[b].correct)
            XCTAssertEqual(trained[b].lossSum, scored[b].lossSum, accuracy: 1e-4 * max(1, abs(scored[b].lossSum)))
            XCTAssertEqual(chunked[b].lossSum, scored[b].lossSum, accuracy: 1e-4 * max(1, abs(scored[b].lossSum)))
            XCTAssertEqual(scored[b].maskedTokens, (0..<batch.seqLen).filter { batch.labels[b * batch.seqLen + $0] != -100 }.count)
        }
        // The same scoring path with the same chunking, so the same GEMM shapes: equal bit for bit on any CPU.
        // (Against `scored`, computed in chunks of another size, OpenBLAS may block the products differently
        // and the last bit may differ: 5.1317687 against 5.131769 with Zen kernels.)
        XCTAssertEqual(model.approximateLosses(batch, exitLayer: 2), chunked.map(\.meanLoss))
    }

    func testEarlyExitEqualsTruncatedModel() {
        let config = Fixtures.smallConfig(layers: 3)
        let model = Fixtures.randomModel(config, seed: 22)
        let batch = Fixtures.batch(config)
        var previous: [Float]? = nil
        for exit in 1...2 {
            var truncatedConfig = config
            truncatedConfig.numLayers = exit
            let layout = ParameterLayout(config: truncatedConfig)
            let weights = FloatBuffer(count: layout.totalCount)
            for t in layout.tensors {
                let source = model.layout.tensor(named: t.name)!
                XCTAssertEqual(source.shape, t.shape)
                (weights.pointer + t.offset).update(from: model.parameters.pointer + source.offset, count: t.count)
            }
            let truncated = BertForMaskedLM(config: truncatedConfig, parameters: weights)
            let early = model.sampleLosses(batch, exitLayer: exit)
            let reference = truncated.sampleLosses(batch, exitLayer: exit)
            for b in 0..<batch.count {
                XCTAssertEqual(early[b].lossSum, reference[b].lossSum, accuracy: 1e-4 * max(1, abs(reference[b].lossSum)))
                XCTAssertEqual(early[b].correct, reference[b].correct)
            }
            let losses = early.map(\.lossSum)
            if let previous { XCTAssertNotEqual(previous, losses, "exit layers should differ") }
            previous = losses
        }
    }

    func testPaddedInputsDoNotChangeLosses() {
        let config = Fixtures.smallConfig()
        let model = Fixtures.randomModel(config, seed: 23)
        let batch = Fixtures.batch(config)
        var changed = batch
        var edits = 0
        for i in 0..<batch.inputIds.count where batch.attentionMask[i] == 0 {
            changed.inputIds[i] = Int32((Int(batch.inputIds[i]) + 5 + i) % config.vocabSize)
            changed.tokenTypeIds[i] = 1 - batch.tokenTypeIds[i]
            edits += 1
        }
        XCTAssertGreaterThan(edits, 0)
        let a = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: nil)
        let b = model.forwardBackward(changed, lossWeight: 1, dropoutSeed: nil)
        for s in 0..<batch.count { XCTAssertEqual(a[s].lossSum, b[s].lossSum, accuracy: 1e-5 * max(1, abs(a[s].lossSum))) }
        // Control: changing an attended position does change the loss.
        var attended = batch
        attended.inputIds[2] = Int32((Int(batch.inputIds[2]) + 1) % config.vocabSize)
        XCTAssertNotEqual(model.sampleLosses(attended, exitLayer: 2)[0].lossSum, model.sampleLosses(batch, exitLayer: 2)[0].lossSum)
    }

    func testDropoutMasksFollowSamplesNotBatchSlots() {
        let config = Fixtures.smallConfig(dropout: 0.2)
        let model = Fixtures.randomModel(config, seed: 24)
        let batch = Fixtures.batch(config, count: 4)
        model.gradients.zero()
        let whole = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: 9)
        let wholeGradients = model.gradients.array
        let reordered = model.forwardBackward(batch.subset([2, 0, 3, 1]), lossWeight: 1, dropoutSeed: 9)
        model.gradients.zero()
        let first = model.forwardBackward(batch.subset([0, 1]), lossWeight: 1, dropoutSeed: 9)
        let second = model.forwardBackward(batch.subset([2, 3]), lossWeight: 1, dropoutSeed: 9)
        let splitGradients = model.gradients.array
        let noDropout = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: nil)
        let otherSeed = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: 10)
        let tol: (Float) -> Float = { 1e-4 * max(1, abs($0)) }
        for (slot, b) in [2, 0, 3, 1].enumerated() {
            XCTAssertEqual(reordered[slot].lossSum, whole[b].lossSum, accuracy: tol(whole[b].lossSum))
        }
        for b in 0..<2 { XCTAssertEqual(first[b].lossSum, whole[b].lossSum, accuracy: tol(whole[b].lossSum)) }
        for b in 0..<2 { XCTAssertEqual(second[b].lossSum, whole[b + 2].lossSum, accuracy: tol(whole[b + 2].lossSum)) }
        for i in wholeGradients.indices {
            XCTAssertEqual(splitGradients[i], wholeGradients[i], accuracy: 1e-4 + 1e-3 * abs(wholeGradients[i]))
        }
        XCTAssertNotEqual(whole.map(\.lossSum), noDropout.map(\.lossSum))
        XCTAssertNotEqual(whole.map(\.lossSum), otherSeed.map(\.lossSum))
    }

    func testMaskedLogitsAgreeWithLosses() {
        let config = Fixtures.smallConfig()
        let model = Fixtures.randomModel(config, seed: 25)
        let batch = Fixtures.batch(config)
        let (positions, logits) = model.maskedLogits(batch, exitLayer: 2)
        XCTAssertEqual(positions, batch.labels.indices.filter { batch.labels[$0] != -100 })
        XCTAssertEqual(logits.count, positions.count * config.vocabSize)
        var perSample = [Double](repeating: 0, count: batch.count)
        for (r, p) in positions.enumerated() {
            let row = logits[r * config.vocabSize..<(r + 1) * config.vocabSize].map(Double.init)
            let m = row.max()!
            perSample[p / batch.seqLen] += log(row.map { exp($0 - m) }.reduce(0, +)) + m - row[Int(batch.labels[p])]
        }
        let losses = model.sampleLosses(batch, exitLayer: 2)
        for b in 0..<batch.count { XCTAssertEqual(Double(losses[b].lossSum), perSample[b], accuracy: 1e-4) }
    }

    func testBatchWithoutMaskedTokensAndEmptyBatch() {
        let config = Fixtures.smallConfig(dropout: 0.1)
        let model = Fixtures.randomModel(config, seed: 26)
        var batch = Fixtures.batch(config)
        batch.labels = batch.labels.map { _ in -100 }
        model.gradients.zero()
        let losses = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: 3)
        XCTAssertEqual(losses, [SampleLoss](repeating: SampleLoss(), count: 3))
        XCTAssertTrue(model.gradients.array.allSatisfy { $0 == 0 })
        XCTAssertEqual(model.sampleLosses(batch, exitLayer: 1), losses)
        var calls = 0
        XCTAssertEqual(model.forwardBackward(MLMBatch(count: 0, seqLen: 7), lossWeight: 1, dropoutSeed: nil) { _ in calls += 1 }, [])
        XCTAssertEqual(calls, config.numLayers + 2)
        XCTAssertEqual(model.sampleLosses(MLMBatch(count: 0, seqLen: 7), exitLayer: 2), [])
    }

    func testInvalidBatchIsReported() {
        let config = Fixtures.smallConfig()
        var batch = Fixtures.batch(config)
        XCTAssertNil(batch.validationError(for: config))
        batch.inputIds[4] = 99
        XCTAssertEqual(batch.validationError(for: config), .value(field: "inputIds", position: 4, value: 99, expected: "0..<37"))
        batch = MLMBatch(count: 1, seqLen: 11)
        XCTAssertNotNil(batch.validationError(for: config))
    }
}
