import Communication
import CostModel
import Model
import Selection
import Training
import XCTest

/// `--selection-exchange auto` is resolved in one place, `TrainingOptions.resolvedExchange`, by the scaling
/// model's cheaper-exchange rule, and every `Trainer` applies it: `sift train`, `sift advise`'s probe runs and
/// `sift bench`'s steps therefore exchange alike.
final class ExchangeResolutionTests: XCTestCase {
    /// A pool of 2¹⁹ candidates: past the threshold exchange's crossover on the reference network at 2 ranks
    /// (≈ 2.6·10⁵ candidates on 25 GbE), so `auto` becomes threshold there.
    func largePool() -> TrainingOptions {
        var o = TrainingOptions()
        o.batchSize = 1 << 18
        o.selectFraction = 0.5
        return o
    }

    func testAutoTakesTheCheaperExchangeWhereTheThresholdExchangeCanSelect() {
        var o = largePool()
        XCTAssertEqual(o.selectionExchange, .auto)
        XCTAssertEqual(o.resolvedExchange(ranks: 2), .threshold)
        for p in [1, 2, 4, 64] {
            XCTAssertEqual(o.resolvedExchange(ranks: p), ScalingModel.cheaperSelectionExchange(pool: o.poolSize, ranks: p), "p = \(p)")
        }
        XCTAssertEqual(o.resolvedExchange(ranks: 1), .allgather, "one rank exchanges nothing: the tie goes to allgather")
        // A reducible score allgathers 8 bytes per candidate, which the rule prices.
        o.score = .reducible
        XCTAssertEqual(
            o.resolvedExchange(ranks: 2), ScalingModel.cheaperSelectionExchange(pool: o.poolSize, ranks: 2, bytesPerCandidate: 8))
        // The small pools of a usual run allgather.
        o = TrainingOptions()
        XCTAssertEqual(o.resolvedExchange(ranks: 2), .allgather)
    }

    func testAutoAllgathersWhereTheThresholdExchangeCannotSelect() {
        var o = largePool()
        o.rule = .relative
        XCTAssertEqual(o.resolvedExchange(ranks: 2), .allgather)
        o = largePool()
        o.policy = .vanilla
        XCTAssertEqual(o.resolvedExchange(ranks: 2), .allgather)
        o = largePool()
        o.staleScores = 2
        XCTAssertEqual(o.resolvedExchange(ranks: 2), .allgather)
    }

    func testAnExplicitExchangeIsKept() {
        var o = largePool()
        o.selectionExchange = .allgather
        XCTAssertEqual(o.resolvedExchange(ranks: 2), .allgather)
        o = TrainingOptions()
        o.selectionExchange = .threshold
        XCTAssertEqual(o.resolvedExchange(ranks: 2), .threshold)
        XCTAssertEqual(o.resolvingExchange(ranks: 2).selectionExchange, .threshold)
    }

    /// A trainer given `auto` runs, and reports in `options`, the resolution for its ranks (it used to keep
    /// `auto` and allgather whatever the pool, so that `sift advise` and `sift bench` never resolved it).
    func testATrainerHoldsTheResolvedExchange() {
        let config = BertConfig.named("tiny", vocabSize: 64)!
        var o = TrainingOptions()
        o.watchdogSeconds = 0
        let train = InMemorySamples.random(count: 16, seqLen: 8, vocab: 64, every: 3, seed: 1)
        let trainer = Trainer(
            options: o, model: BertForMaskedLM(config: config, seed: 1), communicator: SingleProcess(),
            train: train, validation: nil, vocabHash: "test", output: { _ in })
        XCTAssertEqual(trainer.options.selectionExchange, o.resolvedExchange(ranks: 1))
        XCTAssertNotEqual(trainer.options.selectionExchange, .auto)
    }
}
