import Foundation
import Kernels
import Model
import Selection
import SiftTestSupport
import Training
import XCTest

/// A seeded mutation fuzzer for checkpoint files (docs/RELIABILITY.md, "Fuzzed parsers"): header length,
/// JSON header (configuration, counters, the relative rule's history, the stale-score table), tensors and
/// checksum. Every case ends in a thrown error naming the file or in a checkpoint that loads and restores
/// — never a trap, a hang, or buffers sized from an unchecked header.
final class CheckpointFuzzTests: XCTestCase {
    static let cases = 2000

    func testCheckpointFuzz() throws {
        let config = BertConfig(vocabSize: 13, hiddenSize: 4, numLayers: 2, numHeads: 2, intermediateSize: 8, maxPositions: 8)
        var state = CheckpointState(
            config: config, step: 3, seed: 7, samplesScored: 30, samplesBackpropagated: 15,
            elapsedSeconds: 3, runFingerprint: "fuzz", vocabHash: "abc")
        state.scoreHistory = [1.5, 2.5, 0.25]
        var table = StaleScoreTable(samples: 10, maxAge: 4)
        table.record(3, loss: 2, score: 1, step: 2)
        state.staleScores = table.snapshot
        state.fittedSchedule = FittedSchedule(totalSteps: 40, decayStart: 11)
        let n = ParameterLayout(config: config).totalCount
        let dir = temporaryDirectory("ckpt-fuzz")
        try TrainingCheckpoint.save(
            state: state, parameters: FloatBuffer((0..<n).map { Float($0) }), m: FloatBuffer(count: n),
            v: FloatBuffer(count: n), directory: dir, keep: 1)
        let path = try XCTUnwrap(TrainingCheckpoint.list(directory: dir).last?.path)
        let original = [UInt8](FileManager.default.contents(atPath: path)!)
        var m = Mutator(seed: 31)
        var refused = 0, changed = 0
        for _ in 0..<Self.cases {
            let bytes = m.mutate(original)
            if bytes != original { changed += 1 }
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            do {
                let loaded = try TrainingCheckpoint.load(path: path)
                XCTAssertEqual(bytes, original, "a changed checkpoint passed its checksum")
                XCTAssertEqual(loaded.parameters.count, n)
                XCTAssertNotNil(StaleScoreTable(snapshot: loaded.state.staleScores!, samples: 10))
            } catch {
                XCTAssertTrue("\(error)".contains(path), "\(error)")
                refused += 1
            }
            // A header that decodes although the checksum refuses the file (as a hand-edited file with a
            // recomputed checksum would pass): what resume restores from it must not trap either.
            if bytes.count >= 16 {
                let length = bytes[8..<16].reversed().reduce(0) { $0 << 8 | Int($1) }
                if length > 0, length <= bytes.count - 16,
                    let header = try? JSONDecoder().decode(CheckpointState.self, from: Data(bytes[16..<(16 + length)]))
                {
                    _ = ScoreHistory(capacity: 5, values: header.scoreHistory ?? [])
                    if let s = header.staleScores { _ = StaleScoreTable(snapshot: s, samples: 10) }
                    _ = header.config.validationError()
                }
            }
        }
        XCTAssertEqual(refused, changed, "every changed checkpoint is refused, every unchanged one loads")
        XCTAssertGreaterThan(changed, Self.cases / 2)
    }
}
