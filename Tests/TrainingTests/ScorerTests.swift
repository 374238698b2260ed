import Communication
import Data
import Foundation
import Kernels
import Model
import SiftTestSupport
import Training
import XCTest

/// The trainer, `--fidelity-every`, `sift bench --only fidelity` and `sift score` score through one `Scorer`:
/// the bench scores pool p with `Scorer(path).losses(pool, seed: 7, counter: p)`, which must give exactly the
/// losses `sift train --seed 7` logs for the same pool at step p.
final class ScorerTests: XCTestCase {
    func testBenchLossesAreTheTrainersBitForBit() throws {
        let V = 50
        let source = InMemorySamples.random(count: 40, seqLen: 16, vocab: V, every: 3, seed: 7)
        let reference = UnigramReference(counts: (0..<V).map { V - $0 })
        let config = BertConfig.named("tiny", vocabSize: V)!
        for (positions, classes, reuse) in [(0, 0, false), (3, 0, true), (0, 20, true), (4, 20, false)] {
            let model = BertForMaskedLM(config: config, seed: 5)
            let initial = BertForMaskedLM(config: config, parameters: FloatBuffer(count: model.parameters.count))
            initial.parameters.copy(from: model.parameters)
            var o = TrainingOptions()
            o.policy = .sift
            o.batchSize = 6
            o.selectFraction = 0.5
            o.microBatch = 5
            o.steps = 2
            o.stopAfter = 1
            o.siftDelay = 0
            o.scorePositions = positions
            o.scoreVocabulary = classes
            o.reuseScoringForward = reuse
            o.seed = 7
            o.evalEvery = 0
            o.checkReplicasEvery = 0
            o.watchdogSeconds = 0
            let dir = NSTemporaryDirectory() + "sift-scorer-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            o.selectionLogPath = dir + "/selection.jsonl"
            let trainer = Trainer(
                options: o, model: model, communicator: SingleProcess(), train: source, validation: nil,
                vocabHash: "test", reference: reference, output: { _ in })
            _ = try trainer.run()
            let line = try String(contentsOfFile: o.selectionLogPath!, encoding: .utf8).split(separator: "\n")[0]
            let row = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let pool = (row["pool"] as! [NSNumber]).map(\.intValue)
            let logged = (row["losses"] as! [NSNumber]).map(\.floatValue)
            XCTAssertEqual(pool.count, 12)

            // The bench's call for pool 0, with the trainer's micro-batch.
            let path = try XCTUnwrap(o.scoringPath(numLayers: config.numLayers))
            let bench = try Scorer(model: initial, path: path, reference: reference, microBatch: 5)
                .losses(pool.map { (index: $0, epoch: 0) }, from: source, seed: 7, counter: 0)
            assertBitIdentical(
                bench, logged,
                "positions \(positions), classes \(classes), reuse \(reuse): bench and trainer losses differ")
            // And the keys matter: another step's keys change a path with random streams.
            if positions > 0 || reuse {
                let other = try Scorer(model: initial, path: path, reference: reference, microBatch: 5)
                    .losses(pool.map { (index: $0, epoch: 0) }, from: source, seed: 7, counter: 1)
                XCTAssertNotEqual(other, bench)
            }
        }
    }
}
