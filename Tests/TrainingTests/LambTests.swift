import Foundation
import Kernels
import Model
import SiftTestSupport
import Training
import XCTest

/// LAMB against a direct Double implementation of its update rule, its trust-ratio edge cases in
/// closed form, and the bias/LayerNorm exclusion (their steps are AdamW's, bit for bit).
final class LambTests: XCTestCase {
    let config = BertConfig(vocabSize: 11, hiddenSize: 4, numLayers: 1, numHeads: 2, intermediateSize: 8, maxPositions: 6)

    func gradients(_ n: Int, step: Int) -> FloatBuffer {
        FloatBuffer((0..<n).map { Float(cos(Double($0 * step)) * 0.3) })
    }

    /// Four steps of LAMB in Double (moments, bias correction, decay only where `decays`, trust ratio
    /// ‖p‖/‖u‖ per decaying tensor, 1 elsewhere). Tolerance from float arithmetic: each step rounds about
    /// 15 float operations per element (moments, correction, square root, division, decay, apply), each by
    /// at most u = 2⁻²⁴ of the magnitude it touches, and the trust ratio's inputs by as much; 64·u per step
    /// of |p| + lr·r·|u| leaves a factor 4 for the moments' rounding carried into later steps.
    func testLambMatchesDoubleReference() {
        let layout = ParameterLayout(config: config)
        let n = layout.totalCount
        let params = FloatBuffer((0..<n).map { Float(sin(Double($0))) })
        var refP = params.array.map(Double.init)
        var refM = [Double](repeating: 0, count: n)
        var refV = [Double](repeating: 0, count: n)
        var magnitude = [Double](repeating: 0, count: n)
        let wd = 0.1, lr = 0.01, scale = 0.5
        let lamb = Lamb(layout: layout, weightDecay: Float(wd))
        var adapted = 0
        for step in 1...4 {
            let grads = gradients(n, step: step)
            lamb.update(parameters: params, gradients: grads, learningRate: Float(lr), step: step, gradientScale: Float(scale))
            for t in layout.tensors {
                let range = t.offset..<(t.offset + t.count)
                var u = [Double](repeating: 0, count: n)
                var pSquares = 0.0, uSquares = 0.0
                for i in range {
                    let g = Double(grads[i]) * scale
                    refM[i] = 0.9 * refM[i] + 0.1 * g
                    refV[i] = 0.999 * refV[i] + 0.001 * g * g
                    let mh = refM[i] / (1 - pow(0.9, Double(step))), vh = refV[i] / (1 - pow(0.999, Double(step)))
                    u[i] = mh / (vh.squareRoot() + 1e-6) + (t.decays ? wd * refP[i] : 0)
                    pSquares += refP[i] * refP[i]
                    uSquares += u[i] * u[i]
                }
                let ratio = t.decays && pSquares > 0 && uSquares > 0 ? (pSquares / uSquares).squareRoot() : 1
                if ratio != 1 { adapted += 1 }
                for i in range {
                    magnitude[i] += abs(refP[i]) + lr * ratio * abs(u[i])
                    refP[i] -= lr * ratio * u[i]
                }
            }
        }
        XCTAssertGreaterThan(adapted, 0, "no tensor had a trust ratio other than 1")
        let u = Double(RoundingBound.unitRoundoff)
        var worst = 0.0
        for t in layout.tensors {
            for i in t.offset..<(t.offset + t.count) {
                let tolerance = 64 * u * magnitude[i]
                worst = max(worst, abs(Double(params[i]) - refP[i]) / tolerance)
                XCTAssertEqual(Double(params[i]), refP[i], accuracy: tolerance, "\(t.name)[\(i - t.offset)]")
            }
        }
        print("LAMB vs Double reference: largest difference \(worst) of the tolerance")
    }

    /// Writes four steps of `Lamb` on this layout (tensors, starting parameters, gradients, settings,
    /// result) to $SIFT_LAMB_CASE (else a temporary file, removed) for tools/lamb_reference.py, which runs
    /// them through timm's `Lamb` from PyPI by hand and prints the largest difference; checks the case whole.
    func testWritesTheByHandReferenceCase() throws {
        let path =
            ProcessInfo.processInfo.environment["SIFT_LAMB_CASE"]
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("lamb-case-\(getpid()).json").path
        let layout = ParameterLayout(config: config)
        let n = layout.totalCount
        let start = (0..<n).map { Float(sin(Double($0))) }
        let params = FloatBuffer(start)
        let lamb = Lamb(layout: layout, weightDecay: 0.1)
        var steps: [[Float]] = []
        for step in 1...4 {
            let grads = gradients(n, step: step)
            steps.append(grads.array)
            lamb.update(parameters: params, gradients: grads, learningRate: 0.01, step: step, gradientScale: 0.5)
        }
        let tensors = layout.tensors.map { ["name": $0.name, "offset": $0.offset, "count": $0.count, "decays": $0.decays] as [String: Any] }
        let json: [String: Any] = [
            "tensors": tensors, "parameters": start.map(Double.init), "gradients": steps.map { $0.map(Double.init) },
            "learning_rate": 0.01, "weight_decay": Double(Float(0.1)), "gradient_scale": 0.5,
            "result": params.array.map(Double.init)
        ]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        // The case reads back whole, and the four steps moved every decaying tensor.
        let back = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let result = try XCTUnwrap(back["result"] as? [Double])
        XCTAssertEqual(result.count, n)
        XCTAssertEqual((back["gradients"] as? [[Double]])?.count, 4)
        for tensor in layout.tensors where tensor.decays {
            let range = tensor.offset..<(tensor.offset + tensor.count)
            XCTAssertNotEqual(Array(result[range]), range.map { Double(start[$0]) }, tensor.name)
        }
        if ProcessInfo.processInfo.environment["SIFT_LAMB_CASE"] == nil { try? FileManager.default.removeItem(atPath: path) }
    }

    /// r = ‖p‖/‖u‖, and 1 when either norm is 0 or the ratio is not finite.
    func testTrustRatioIsOneWhenANormIsZero() {
        XCTAssertEqual(Lamb.trustRatio(parameterNorm: 3, updateNorm: 4), 0.75)
        XCTAssertEqual(Lamb.trustRatio(parameterNorm: 0, updateNorm: 4), 1)
        XCTAssertEqual(Lamb.trustRatio(parameterNorm: 3, updateNorm: 0), 1)
        XCTAssertEqual(Lamb.trustRatio(parameterNorm: 0, updateNorm: 0), 1)
        XCTAssertEqual(Lamb.trustRatio(parameterNorm: .infinity, updateNorm: 1), 1)
        XCTAssertEqual(Lamb.trustRatio(parameterNorm: .nan, updateNorm: 1), 1)
    }

    /// The edge cases through a whole update, in closed form at step 1 (m̂ = g, v̂ = g²): a zero tensor
    /// takes Adam's step −lr·g/(|g|+ε) (r = 1, not ∞); with zero gradients u = wd·p, so r = 1/wd and
    /// p ← (1 − lr)·p; with zero gradients and no decay u = 0, r = 1 and nothing moves.
    func testTrustRatioEdgeCasesThroughAnUpdate() throws {
        let layout = ParameterLayout(config: config)
        let n = layout.totalCount
        let words = try XCTUnwrap(layout.tensor(named: "bert.embeddings.word_embeddings.weight"))
        XCTAssertTrue(words.decays)
        let lr: Float = 0.01
        let initial = (0..<n).map { Float(sin(Double($0)) + 0.1) }

        let zeroWords = FloatBuffer(initial)
        for i in words.offset..<(words.offset + words.count) { zeroWords[i] = 0 }
        let grads = gradients(n, step: 1)
        Lamb(layout: layout, weightDecay: 0.1).update(parameters: zeroWords, gradients: grads, learningRate: lr, step: 1)
        for i in words.offset..<(words.offset + words.count) {
            let g = Double(grads[i])
            XCTAssertEqual(Double(zeroWords[i]), -Double(lr) * g / (abs(g) + 1e-6), accuracy: 1e-8, "zero tensor [\(i)]")
        }

        let noGradient = FloatBuffer(initial)
        let zero = FloatBuffer(count: n)
        Lamb(layout: layout, weightDecay: 0.1).update(parameters: noGradient, gradients: zero, learningRate: lr, step: 1)
        for t in layout.tensors {
            for i in t.offset..<(t.offset + t.count) {
                let expected = t.decays ? (1 - Double(lr)) * Double(initial[i]) : Double(initial[i])
                XCTAssertEqual(Double(noGradient[i]), expected, accuracy: 4e-7 * abs(expected), "\(t.name), no gradient")
            }
        }

        let still = FloatBuffer(initial)
        Lamb(layout: layout, weightDecay: 0).update(parameters: still, gradients: zero, learningRate: lr, step: 1)
        assertBitIdentical(still.array, initial, "no gradient and no decay moved a weight")
    }

    /// Biases and LayerNorm (`decays` false) get no decay and no trust ratio: over several steps their
    /// values and moments are AdamW's bit for bit. Every decaying tensor moves by exactly lr·‖p‖ in its
    /// first step (the trust ratio's invariant), which AdamW's step does not.
    func testBiasAndLayerNormStepsAreAdamWsAndWeightsMoveByLrTimesTheirNorm() {
        let layout = ParameterLayout(config: config)
        let n = layout.totalCount
        let initial = (0..<n).map { Float(sin(Double($0))) }
        let lambP = FloatBuffer(initial), adamP = FloatBuffer(initial)
        let lamb = Lamb(layout: layout, weightDecay: 0.1), adam = AdamW(layout: layout, weightDecay: 0.1)
        let lr: Float = 0.01
        for step in 1...3 {
            let before = lambP.array
            lamb.update(parameters: lambP, gradients: gradients(n, step: step), learningRate: lr, step: step, gradientScale: 0.5)
            adam.update(parameters: adamP, gradients: gradients(n, step: step), learningRate: lr, step: step, gradientScale: 0.5)
            for t in layout.tensors {
                let range = t.offset..<(t.offset + t.count)
                if !t.decays {
                    assertBitIdentical(Array(lambP.array[range]), Array(adamP.array[range]), "\(t.name) step \(step)")
                    assertBitIdentical(Array(lamb.v.array[range]), Array(adam.v.array[range]), "\(t.name) v step \(step)")
                } else if step == 1 {
                    let moved = range.reduce(0.0) { $0 + pow(Double(before[$1]) - Double(lambP[$1]), 2) }.squareRoot()
                    let norm = range.reduce(0.0) { $0 + pow(Double(before[$1]), 2) }.squareRoot()
                    XCTAssertEqual(moved / norm, Double(lr), accuracy: 1e-4 * Double(lr), t.name)
                    XCTAssertNotEqual(Array(lambP.array[range]), Array(adamP.array[range]), t.name)
                }
            }
        }
    }
}
