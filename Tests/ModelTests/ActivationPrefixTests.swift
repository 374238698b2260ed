import Kernels
import Model
import XCTest

/// The scoring forward's kept activations (`ActivationPrefix`) against the full training forward.
final class ActivationPrefixTests: XCTestCase {
    /// Training that resumes from prefixes computed in other chunks, in another order, gives the
    /// gradients and losses of the full forward (same dropout masks: they are keyed by sample).
    func testResumingFromThePrefixGivesTheFullForwardsGradients() {
        let config = Fixtures.smallConfig(dropout: 0.2, layers: 3)
        let batch = Fixtures.batch(config, count: 5)
        let seed: UInt64 = 0xBEEF
        for depth in 1...3 {
            let model = Fixtures.randomModel(config, seed: 31)
            model.gradients.zero()
            let full = model.forwardBackward(batch, lossWeight: 0.1, dropoutSeed: seed)
            let reference = model.gradients.array
            // Overwrite the training workspace, so nothing of the full forward survives in it.
            _ = model.forwardBackward(Fixtures.batch(config, seed: 99, count: 5), lossWeight: 1, dropoutSeed: 1)

            let prefix = ActivationPrefix(config: config, depth: depth)
            prefix.reset()
            // Scored in two chunks, neither in the batch's order.
            let first = model.scoreKeepingPrefix(batch.subset([3, 0]), dropoutSeed: seed, into: prefix)
            let second = model.forwardPrefix(batch.subset([4, 1, 2]), dropoutSeed: seed, into: prefix)
            let slots = [
                PrefixSlot(chunk: first.chunk, row: 1), PrefixSlot(chunk: second, row: 1),
                PrefixSlot(chunk: second, row: 2), PrefixSlot(chunk: first.chunk, row: 0),
                PrefixSlot(chunk: second, row: 0)
            ]
            model.gradients.zero()
            let resumed = model.forwardBackward(batch, lossWeight: 0.1, dropoutSeed: seed, resumingFrom: (prefix, slots))
            let g = model.gradients.array
            let scale = reference.map { abs($0) }.max()!
            var worst: Float = 0
            for k in g.indices { worst = max(worst, abs(g[k] - reference[k])) }
            XCTAssertLessThan(worst, 1e-5 * scale, "depth \(depth): gradients differ")
            for b in 0..<batch.count {
                XCTAssertEqual(resumed[b].maskedTokens, full[b].maskedTokens)
                XCTAssertEqual(resumed[b].lossSum, full[b].lossSum, accuracy: 1e-5 * max(1, abs(full[b].lossSum)))
            }
            // At the last layer the kept scoring forward is the training forward: same per-sample loss.
            if depth == config.numLayers {
                XCTAssertEqual(first.losses[0].lossSum, full[3].lossSum, accuracy: 1e-5 * max(1, abs(full[3].lossSum)))
                XCTAssertEqual(first.losses[1].lossSum, full[0].lossSum, accuracy: 1e-5 * max(1, abs(full[0].lossSum)))
            }
        }
    }

    /// Without dropout the kept scoring forward's losses are `sampleLosses`'s early-exit losses; with
    /// dropout they differ from them (the scores carry the training forward's noise).
    func testScoresEqualEarlyExitWithoutDropoutOnly() {
        for dropout: Float in [0, 0.2] {
            let config = Fixtures.smallConfig(dropout: dropout, layers: 3)
            let model = Fixtures.randomModel(config, seed: 32)
            let batch = Fixtures.batch(config, count: 4)
            let prefix = ActivationPrefix(config: config, depth: 2)
            let kept = model.scoreKeepingPrefix(batch, dropoutSeed: 9, into: prefix).losses.map(\.meanLoss)
            let exit = model.approximateLosses(batch, exitLayer: 2)
            let gap = zip(kept, exit).map { abs($0 - $1) }.max()!
            if dropout == 0 { XCTAssertLessThan(gap, 1e-5) } else { XCTAssertGreaterThan(gap, 1e-3) }
        }
    }
}
