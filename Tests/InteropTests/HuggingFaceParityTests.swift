import Foundation
import Interop
import Kernels
import Model
import XCTest

/// sift's model against HuggingFace transformers on a committed fixture.
///
/// `Fixtures/hf-tiny` holds a small random `BertForMaskedLM` saved by transformers'
/// `save_pretrained(safe_serialization=True)` and `reference.json`: input batches with padding,
/// segments and masked labels, and what transformers computed on them (per-sample mean MLM loss at
/// every exit layer, and a few logits). It was produced once by `tools/make_hf_fixture.py`; this test
/// needs neither Python nor torch. Unlike the export→load round trip, which a layout error made
/// consistently on both sides would pass, this catches any disagreement with HuggingFace's own
/// reading of the weights (a transposed matrix, swapped Q/K/V blocks, a misplaced bias or LayerNorm).
final class HuggingFaceParityTests: XCTestCase {
    /// Relative tolerance on per-sample losses; absolute tolerance on logits. The references are
    /// float64 evaluations of the float32 weights, so this bounds sift's float32 error.
    static let lossRelativeTolerance = 1e-4
    static let logitAbsoluteTolerance = 1e-4

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("hf-tiny").path

    struct Reference: Decodable {
        struct LogitSample: Decodable {
            var positions: [Int]
            var values: [[Double]]
        }
        struct Expected: Decodable {
            var losses: [String: [Double]]
            var logits: [String: LogitSample]
        }
        struct Batch: Decodable {
            var count: Int
            var seq_len: Int
            var input_ids: [Int32]
            var token_type_ids: [Int32]
            var attention_mask: [Int32]
            var labels: [Int32]
            var reference: Expected
        }
        var torch: String
        var transformers: String
        var batches: [Batch]
    }

    func loadFixture() throws -> (model: BertForMaskedLM, reference: Reference) {
        let dir = Self.fixture
        guard FileManager.default.fileExists(atPath: dir + "/reference.json") else {
            XCTFail("fixture missing at \(dir); regenerate with tools/make_hf_fixture.py")
            throw XCTSkip("no fixture")
        }
        // The same import path as `sift import --hf` and `sift train --init-from`.
        let loaded = try HuggingFaceCheckpoint.load(from: dir)
        XCTAssertEqual(loaded.warnings, [], "a transformers-written checkpoint should load without warnings")
        XCTAssertEqual(
            loaded.config,
            BertConfig(
                vocabSize: 120, hiddenSize: 32, numLayers: 3, numHeads: 4,
                intermediateSize: 64, maxPositions: 64, typeVocabSize: 2))
        XCTAssertEqual(loaded.vocabPath, dir + "/vocab.txt")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/reference.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        return (BertForMaskedLM(config: loaded.config, parameters: loaded.parameters), reference)
    }

    func batch(_ r: Reference.Batch) -> MLMBatch {
        var b = MLMBatch(count: r.count, seqLen: r.seq_len)
        b.inputIds = r.input_ids
        b.tokenTypeIds = r.token_type_ids
        b.attentionMask = r.attention_mask
        b.labels = r.labels
        return b
    }

    /// Largest relative difference of `ours` from `expected`; a sample whose expected loss is 0 (no
    /// masked token) must be exactly 0.
    func compareLosses(
        _ ours: [Float], _ expected: [Double], what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) -> Double {
        XCTAssertEqual(ours.count, expected.count, "\(what): sample count", file: file, line: line)
        var worst = 0.0
        for (i, (a, e)) in zip(ours, expected).enumerated() {
            if e == 0 {
                XCTAssertEqual(a, 0, "\(what) sample \(i): no masked token", file: file, line: line)
                continue
            }
            let rel = abs(Double(a) - e) / abs(e)
            worst = max(worst, rel)
            XCTAssertLessThanOrEqual(
                rel, Self.lossRelativeTolerance,
                "\(what) sample \(i): sift \(a), HuggingFace \(e)", file: file, line: line)
        }
        return worst
    }

    func testLossesMatchHuggingFaceAtEveryExitLayer() throws {
        let (model, reference) = try loadFixture()
        let L = model.config.numLayers
        XCTAssertEqual(reference.batches.count, 3)
        var worst = [Int: Double]()
        var worstTraining = 0.0
        for (n, r) in reference.batches.enumerated() {
            let b = batch(r)
            XCTAssertNil(b.validationError(for: model.config))
            XCTAssertEqual(Set(r.reference.losses.keys), Set((1...L).map(String.init)))
            // Scoring path, with the default chunk and one sample at a time.
            for chunk in [32, 1] {
                model.scoringChunk = chunk
                for layer in 1...L {
                    let expected = try XCTUnwrap(r.reference.losses[String(layer)])
                    let ours = model.approximateLosses(b, exitLayer: layer)
                    worst[layer] = max(worst[layer] ?? 0, compareLosses(ours, expected, what: "batch \(n) exit \(layer) chunk \(chunk)"))
                }
            }
            // Training path (activation cache, no dropout) at full depth.
            let full = try XCTUnwrap(r.reference.losses[String(L)])
            let trained = model.forwardBackward(b, lossWeight: 1, dropoutSeed: nil).map(\.meanLoss)
            worstTraining = max(worstTraining, compareLosses(trained, full, what: "batch \(n) forwardBackward"))
        }
        model.scoringChunk = 32

        // The fixture must not be degenerate: losses far from uniform and different between layers.
        let all = reference.batches.flatMap { $0.reference.losses.values.flatMap { $0 } }.filter { $0 != 0 }
        XCTAssertGreaterThan(all.map { abs($0 - log(120.0)) }.max() ?? 0, 0.5)
        let first = reference.batches[0].reference.losses
        XCTAssertGreaterThan(zip(first["1"]!, first[String(L)]!).map { abs($0 - $1) / $1 }.max()!, 100 * Self.lossRelativeTolerance)

        print(
            "HF parity (torch \(reference.torch), transformers \(reference.transformers)): max relative loss difference "
                + (1...L).map { "exit \($0): \(String(format: "%.2e", worst[$0] ?? 0))" }.joined(separator: ", ")
                + ", forwardBackward: \(String(format: "%.2e", worstTraining))")
    }

    func testLogitsMatchHuggingFace() throws {
        let (model, reference) = try loadFixture()
        let V = model.config.vocabSize
        var worst = 0.0, checked = 0
        for (n, r) in reference.batches.enumerated() {
            let b = batch(r)
            for (key, sample) in r.reference.logits {
                let layer = try XCTUnwrap(Int(key))
                let ours = model.maskedLogits(b, exitLayer: layer)
                XCTAssertEqual(ours.positions.count, b.maskedTokenCount)
                for (i, position) in sample.positions.enumerated() {
                    guard let row = ours.positions.firstIndex(of: position) else {
                        XCTFail("batch \(n) exit \(layer): position \(position) not among sift's masked positions")
                        continue
                    }
                    XCTAssertEqual(row, i, "masked positions are in row-major order")
                    for (c, e) in sample.values[i].enumerated() {
                        let a = Double(ours.logits[row * V + c])
                        worst = max(worst, abs(a - e))
                        checked += 1
                        XCTAssertEqual(
                            a, e, accuracy: Self.logitAbsoluteTolerance,
                            "batch \(n) exit \(layer) position \(position) logit \(c)")
                    }
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 3 * 3 * 3 * 8)
        print("HF parity: \(checked) logits, max absolute difference \(String(format: "%.2e", worst))")
    }
}
