import Communication
import Data
import Model
import SiftTestSupport
import Training
import XCTest

/// A trainer used only to evaluate, then dropped (as `sift advise` does for the warm start), stops its
/// watchdog: left counting in its 'evaluation' phase it would abort the process once the timeout passed.
final class WatchdogLifetimeTests: XCTestCase {
    func testADroppedTrainerStopsItsWatchdog() throws {
        let V = 40
        let validation = InMemorySamples.random(count: 4, seqLen: 12, vocab: V, every: 3, seed: 4)
        var o = TrainingOptions()
        o.policy = .vanilla
        o.batchSize = 2
        o.steps = 1
        o.evalSamples = nil
        o.checkReplicasEvery = 0
        // Longer than the test: a watchdog left running fails the assertion below instead of ending the process.
        o.watchdogSeconds = 3600
        var watchdog: Watchdog?
        do {
            let trainer = Trainer(
                options: o, model: BertForMaskedLM(config: BertConfig.named("tiny", vocabSize: V)!, seed: 1),
                communicator: SingleProcess(), train: validation, validation: validation, vocabHash: "test",
                output: { _ in })
            XCTAssertNotNil(try trainer.measureValidation())
            watchdog = trainer.watchdog
            XCTAssertEqual(watchdog?.isRunning, true, "the trainer watches its phases")
        }
        XCTAssertEqual(watchdog?.isRunning, false, "the dropped trainer left its watchdog counting")
    }

    func testAStoppedWatchdogNoLongerRuns() {
        let watchdog = Watchdog(timeout: 3600, rank: 0) { fatalError("a watchdog of an hour fired") }
        XCTAssertTrue(watchdog.isRunning)
        watchdog.stop()
        XCTAssertFalse(watchdog.isRunning)
    }
}
