import Communication
import Data
import Foundation
import Kernels
import Model
import Training
import XCTest

/// Samples held in memory, already masked (labels −100 where no loss is taken).
struct InMemorySamples: MLMSampleSource {
    var ids: [[Int32]]
    var labels: [[Int32]]
    var count: Int { ids.count }
    var seqLen: Int { ids[0].count }
    func fill(
        index: Int, epoch: Int, inputIds: UnsafeMutablePointer<Int32>, tokenTypeIds: UnsafeMutablePointer<Int32>,
        attentionMask: UnsafeMutablePointer<Int32>, labels out: UnsafeMutablePointer<Int32>
    ) {
        for t in 0..<seqLen {
            inputIds[t] = ids[index][t]
            tokenTypeIds[t] = 0
            attentionMask[t] = 1
            out[t] = labels[index][t]
        }
    }
}

extension InMemorySamples {
    /// `count` samples of `seqLen` ids drawn uniformly from 5..<`vocab` by an LCG seeded with `seed`; position 0
    /// and about one in `every` other positions carry a random label.
    static func random(count: Int, seqLen: Int, vocab: Int, every: Int, seed: UInt64) -> InMemorySamples {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var ids: [[Int32]] = [], labels: [[Int32]] = []
        for _ in 0..<count {
            ids.append((0..<seqLen).map { _ in Int32(5 + next(vocab - 5)) })
            labels.append((0..<seqLen).map { t in t == 0 || next(every) == 0 ? Int32(5 + next(vocab - 5)) : -100 })
        }
        return InMemorySamples(ids: ids, labels: labels)
    }
}

/// One training step of the real trainer (single process, `SingleProcess` collectives, two micro-batches)
/// against an independent computation of the same step: gradients accumulated one sample at a time with
/// weight 1/(masked tokens of the whole batch), the clipping scale min(1, c/‖g‖), the scheduled rate and
/// AdamW's first step written out by hand.
final class SerialStepTests: XCTestCase {
    func testOneStepMatchesASerialReference() throws {
        var state: UInt64 = 42
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let V = 60, T = 12, N = 10
        var ids: [[Int32]] = [], labels: [[Int32]] = []
        for _ in 0..<N {
            ids.append((0..<T).map { _ in Int32(5 + next(V - 5)) })
            labels.append((0..<T).map { _ in next(4) == 0 ? Int32(5 + next(V - 5)) : -100 })
        }
        labels[0][0] = 7  // at least one label everywhere below
        let source = InMemorySamples(ids: ids, labels: labels)
        var config = BertConfig.named("tiny", vocabSize: V)!
        config.hiddenDropout = 0
        config.attentionDropout = 0
        let model = BertForMaskedLM(config: config, seed: 3)
        let initial = FloatBuffer(count: model.parameters.count)
        initial.copy(from: model.parameters)

        var o = TrainingOptions()
        o.policy = .vanilla
        o.batchSize = 6
        o.microBatch = 4
        o.steps = 10
        o.stopAfter = 1
        o.warmupSteps = 0
        o.learningRate = 2e-3
        o.clipNorm = 0.05
        o.weightDecay = 0.1
        o.seed = 11
        o.evalEvery = 0
        o.checkReplicasEvery = 0
        o.watchdogSeconds = 0
        let dir = NSTemporaryDirectory() + "sift-serial-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        o.metricsPath = dir + "/m.jsonl"
        let trainer = Trainer(
            options: o, model: model, communicator: SingleProcess(), train: source, validation: nil,
            vocabHash: "test", output: { _ in })
        let summary = try trainer.run()
        XCTAssertEqual(summary.steps, 1)

        // The six samples of step 1 (the data order is not under test here).
        let chosen = CandidateStream(sampleCount: N, seed: 11).candidates(from: 0, count: 6).indices
        let masked = chosen.reduce(0) { $0 + labels[$1].filter { $0 >= 0 }.count }
        let reference = BertForMaskedLM(config: config, parameters: FloatBuffer(count: initial.count))
        reference.parameters.copy(from: initial)
        reference.gradients.zero()
        var lossSum = 0.0
        for i in chosen {
            var b = MLMBatch(count: 1, seqLen: T)
            b.inputIds = ids[i]
            b.labels = labels[i]
            b.sampleIndices = [i]
            b.tokenTypeIds = [Int32](repeating: 0, count: T)
            b.attentionMask = [Int32](repeating: 1, count: T)
            for s in reference.forwardBackward(b, lossWeight: 1 / Float(masked), dropoutSeed: nil) { lossSum += Double(s.lossSum) }
        }
        let g = reference.gradients.array
        let norm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let trained = model.gradients.array
        var worst = 0.0
        for k in g.indices { worst = max(worst, Double(abs(g[k] - trained[k]))) }
        XCTAssertLessThan(worst, 1e-6 * max(1, g.map { Double(abs($0)) }.max()!), "summed gradient differs from the serial one")

        let row = try XCTUnwrap(
            try String(contentsOfFile: dir + "/m.jsonl", encoding: .utf8).split(separator: "\n")
                .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.first)
        XCTAssertEqual((row["grad_norm"] as! NSNumber).doubleValue, norm, accuracy: 1e-5 * norm)
        XCTAssertEqual((row["train_loss"] as! NSNumber).doubleValue, lossSum / Double(masked), accuracy: 1e-5)
        XCTAssertEqual((row["masked_tokens"] as! NSNumber).intValue, masked)
        let lr = 2e-3 * Double(10 - 1) / Double(10 - 0)  // warm-up 0: linear decay from step 0 to 10
        XCTAssertEqual((row["lr"] as! NSNumber).doubleValue, lr, accuracy: 1e-9)
        XCTAssertGreaterThan(norm, 0.05, "clipping must be active for this check")

        // AdamW's first step by hand: m̂ = g', v̂ = g'², p ← p·(1 − lr·wd) − lr·g'/(|g'| + ε), g' = g·min(1, c/‖g‖).
        let scale = min(1, 0.05 / norm)
        let p0 = initial.array, p1 = model.parameters.array
        var worstUpdate = 0.0
        for tensor in model.layout.tensors {
            let decay = tensor.decays ? 1 - lr * 0.1 : 1
            for k in tensor.offset..<(tensor.offset + tensor.count) {
                let gk = Double(g[k]) * scale
                let expected = Double(p0[k]) * decay - lr * gk / (abs(gk) + 1e-6)
                worstUpdate = max(worstUpdate, abs(expected - Double(p1[k])))
            }
        }
        XCTAssertLessThan(worstUpdate, 1e-6, "clipped AdamW step differs from the hand-written one")
    }
}
