import CostModel
import Kernels
import Model
import Training
import XCTest

/// AdamW and the schedule against a direct Double implementation of the published update rules.
final class OptimizerTests: XCTestCase {
    let config = BertConfig(vocabSize: 11, hiddenSize: 4, numLayers: 1, numHeads: 2, intermediateSize: 8, maxPositions: 6)

    func testAdamWMatchesDoubleReference() {
        let layout = ParameterLayout(config: config)
        let n = layout.totalCount
        let params = FloatBuffer((0..<n).map { Float(sin(Double($0))) })
        var refP = params.array.map(Double.init)
        var refM = [Double](repeating: 0, count: n), refV = [Double](repeating: 0, count: n)
        let adam = AdamW(layout: layout, weightDecay: 0.1)
        var decays = [Bool](repeating: false, count: n), inTensor = [Bool](repeating: false, count: n)
        for t in layout.tensors {
            for i in t.offset..<(t.offset + t.count) {
                decays[i] = t.decays
                inTensor[i] = true
            }
        }
        for step in 1...4 {
            let grads = FloatBuffer((0..<n).map { Float(cos(Double($0 * step)) * 0.3) })
            let lr: Float = 0.01, scale: Float = 0.5
            adam.update(parameters: params, gradients: grads, learningRate: lr, step: step, gradientScale: scale)
            // Alignment padding between tensors belongs to no tensor and is never updated.
            for i in 0..<n where inTensor[i] {
                let g = Double(grads[i]) * Double(scale)
                refM[i] = 0.9 * refM[i] + 0.1 * g
                refV[i] = 0.999 * refV[i] + 0.001 * g * g
                let mh = refM[i] / (1 - pow(0.9, Double(step))), vh = refV[i] / (1 - pow(0.999, Double(step)))
                if decays[i] { refP[i] -= Double(lr) * 0.1 * refP[i] }
                refP[i] -= Double(lr) * mh / (vh.squareRoot() + 1e-6)
            }
        }
        for i in 0..<n { XCTAssertEqual(Double(params[i]), refP[i], accuracy: 1e-5, "parameter \(i)") }
    }

    func testLearningRateSchedule() {
        let s = LearningRateSchedule(peak: 2, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(s.rate(at: 1), 0.2, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 10), 2, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 60), 1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 110), 0, accuracy: 1e-6)
        for k in 11..<110 { XCTAssertLessThan(s.rate(at: k + 1), s.rate(at: k)) }
    }

    func testScheduleDecaysFromItsStartToZero() {
        let s = LearningRateSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, decayStart: 30)
        XCTAssertEqual(s.rate(at: 5), 0.5)
        XCTAssertEqual(s.rate(at: 30), 1)
        XCTAssertEqual(s.rate(at: 70), 0.5)
        XCTAssertEqual(s.rate(at: 110), 0)
        // Without a decay start it is today's warm-up + linear decay.
        XCTAssertEqual(LearningRateSchedule(peak: 1, warmupSteps: 10, totalSteps: 110).rate(at: 60), 0.5)
        XCTAssertEqual(LearningRateSchedule.open(peak: 2, warmupSteps: 4).rate(at: 1_000_000), 2)
    }

    /// A schedule re-fitted at step 50 with the rate 0.8 there: linear from 0.8 at step 50 to 0 at step 90.
    func testRefittedScheduleDecaysFromItsStartRate() {
        let s = LearningRateSchedule(peak: 2, warmupSteps: 10, totalSteps: 90, decayStart: 50, decayStartRate: 0.8)
        XCTAssertEqual(s.rate(at: 50), 0.8, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 70), 0.4, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 89), 0.02, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 90), 0, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 5), 1, accuracy: 1e-6)
    }

    func testBucketPlanCoversBufferOnceFromTheEnd() {
        for (count, bucket) in [(1, 1), (10, 3), (100, 100), (101, 100), (1000, 7)] {
            let plan = GradientBucketPlan.ranges(count: count, bucketElements: bucket)
            XCTAssertEqual(plan.first?.upperBound, count)
            XCTAssertEqual(plan.last?.lowerBound, 0)
            for (a, b) in zip(plan, plan.dropFirst()) { XCTAssertEqual(a.lowerBound, b.upperBound) }
            XCTAssertTrue(plan.allSatisfy { $0.count <= bucket && !$0.isEmpty })
        }
    }

    func testCandidateStreamIsAPermutationPerEpoch() {
        let stream = CandidateStream(sampleCount: 13, seed: 42)
        let (indices, epochs) = stream.candidates(from: 0, count: 39)
        for e in 0..<3 {
            let slice = indices[(e * 13)..<((e + 1) * 13)]
            XCTAssertEqual(slice.sorted(), Array(0..<13))
            XCTAssertTrue(epochs[(e * 13)..<((e + 1) * 13)].allSatisfy { $0 == e })
        }
        XCTAssertNotEqual(Array(indices[0..<13]), Array(indices[13..<26]), "epochs are shuffled differently")
        // A window across the epoch boundary reads the same positions as the full stream.
        let (window, _) = CandidateStream(sampleCount: 13, seed: 42).candidates(from: 10, count: 7)
        XCTAssertEqual(window, Array(indices[10..<17]))
    }
}
