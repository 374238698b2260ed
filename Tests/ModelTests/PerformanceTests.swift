import XCTest
import Foundation
import Kernels
import Model

/// Timing report for the base configuration; skipped unless SIFT_PERF=1. Prints, never asserts on time.
final class PerformanceTests: XCTestCase {
    func testBaseForwardBackwardTiming() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["SIFT_PERF"] == "1", "set SIFT_PERF=1 to time the base model")
        let config = BertConfig(vocabSize: 30522, hiddenSize: 768, numLayers: 12, numHeads: 12)
        let model = BertForMaskedLM(config: config, seed: 1)
        let B = 32, T = 128
        var batch = MLMBatch(count: B, seqLen: T)
        var rng = TestRandom(1)
        for i in 0..<B * T {
            batch.inputIds[i] = Int32(1000 + rng.below(29000))
            if i % T != 0 && rng.below(100) < 16 { batch.labels[i] = Int32(1000 + rng.below(29000)) }
        }
        let masked = batch.maskedTokenCount
        let flops = BertForMaskedLM.trainingFLOPs(config: config, batch: B, seqLen: T, maskedTokens: masked)
        let scoreFlops = BertForMaskedLM.scoringFLOPs(config: config, exitLayer: 2, batch: B, seqLen: T, maskedTokens: masked)
        _ = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: 1)  // warm-up: allocates workspaces
        for _ in 0..<2 {
            let start = Date()
            _ = model.forwardBackward(batch, lossWeight: 1, dropoutSeed: 1)
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "base forwardBackward B=%d T=%d masked=%d: %.3f s, %.1f GFLOP, %.1f GFLOP/s",
                         B, T, masked, seconds, flops / 1e9, flops / seconds / 1e9))
        }
        _ = model.evaluate(batch, exitLayer: 2)
        let start = Date()
        _ = model.evaluate(batch, exitLayer: 2)
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "base evaluate exitLayer=2: %.3f s, %.1f GFLOP/s", seconds, scoreFlops / seconds / 1e9))
    }
}
