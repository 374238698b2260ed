import Foundation
import Interop
import Kernels
import Model
import XCTest

/// Every named size (deep12 included) survives an export to the HuggingFace format and a load back:
/// the configuration field by field and every tensor bit for bit.
final class NamedSizeRoundTripTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// BERT-large (Devlin et al.: L 24, H 1024, A 16, I 4096) by name, checked on its layout only: its
    /// 335M parameters are never allocated in a test. The export path is the one deep12 round-trips below.
    func testLargeIsBertLargesShape() throws {
        let config = try XCTUnwrap(BertConfig.named("large", vocabSize: 30522))
        XCTAssertEqual([config.numLayers, config.hiddenSize, config.numHeads, config.intermediateSize], [24, 1024, 16, 4096])
        XCTAssertTrue(BertConfig.sizeNames.contains("large"))
        let layout = ParameterLayout(config: config)
        let (v, h, i, p) = (30522, 1024, 4096, config.maxPositions)
        let perLayer = 4 * (h * h + h) + 2 * h + (i * h + i) + (h * i + h) + 2 * h
        let expected = v * h + p * h + config.typeVocabSize * h + 2 * h + 24 * perLayer + (h * h + h) + 2 * h + v
        XCTAssertEqual(layout.tensors.reduce(0) { $0 + $1.count }, expected)
        XCTAssertEqual(Double(expected) / 1e6, 335.17, accuracy: 0.01)
    }

    func testDeep12ExportLoadRoundTripIsBitExact() throws {
        let config = try XCTUnwrap(BertConfig.named("deep12", vocabSize: 50))
        XCTAssertEqual([config.numLayers, config.hiddenSize, config.numHeads, config.intermediateSize], [12, 128, 2, 512])
        let layout = ParameterLayout(config: config)
        XCTAssertEqual(layout.layers.count, 12)
        let parameters = randomParameters(layout)
        let vocab = dir + "/vocab.txt"
        try ((0..<50).map { "tok\($0)" }.joined(separator: "\n") + "\n").write(toFile: vocab, atomically: true, encoding: .utf8)
        try HuggingFaceCheckpoint.export(config: config, layout: layout, parameters: parameters, vocabPath: vocab, to: dir + "/hf")
        let loaded = try HuggingFaceCheckpoint.load(from: dir + "/hf")
        XCTAssertEqual(loaded.config, config)
        XCTAssertEqual(loaded.warnings, [])
        XCTAssertEqual(loaded.parameters.count, layout.totalCount)
        // Every tensor of the layout (the flat buffer's alignment padding between tensors carries nothing).
        var differing: [String] = []
        for t in layout.tensors
        where (0..<t.count).contains(where: { parameters[t.offset + $0].bitPattern != loaded.parameters[t.offset + $0].bitPattern }) {
            differing.append(t.name)
        }
        XCTAssertEqual(differing, [], "tensors that differ after the round trip")
        let json = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/hf/config.json")))
                as? [String: Any])
        XCTAssertEqual(json["num_hidden_layers"] as? Int, 12)
        XCTAssertEqual(json["hidden_size"] as? Int, 128)
        XCTAssertEqual(json["num_attention_heads"] as? Int, 2)
        XCTAssertEqual(json["intermediate_size"] as? Int, 512)
    }
}
