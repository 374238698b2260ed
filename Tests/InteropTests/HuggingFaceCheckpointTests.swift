import Foundation
import Interop
import Kernels
import Model
import XCTest

final class HuggingFaceCheckpointTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func writeVocab(_ count: Int) throws -> String {
        let path = dir + "/source-vocab.txt"
        let text = (0..<count).map { "tok\($0)" }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func assertTensorsEqual(
        _ a: FloatBuffer, _ b: FloatBuffer, layout: ParameterLayout,
        only: (String) -> Bool = { _ in true }, file: StaticString = #filePath, line: UInt = #line
    ) {
        for t in layout.tensors where only(t.name) {
            for i in 0..<t.count where a[t.offset + i].bitPattern != b[t.offset + i].bitPattern {
                XCTFail("\(t.name)[\(i)]: \(a[t.offset + i]) vs \(b[t.offset + i])", file: file, line: line)
                return
            }
        }
    }

    func testExportLoadRoundTripIsBitExact() throws {
        let layout = ParameterLayout(config: smallConfig)
        let parameters = randomParameters(layout)
        let vocab = try writeVocab(smallConfig.vocabSize)
        let out = dir + "/hf"
        try HuggingFaceCheckpoint.export(
            config: smallConfig, layout: layout, parameters: parameters,
            vocabPath: vocab, to: out)
        XCTAssertEqual(
            Set(try FileManager.default.contentsOfDirectory(atPath: out)),
            ["config.json", "model.safetensors", "vocab.txt", HuggingFaceCheckpoint.markerFile])
        let loaded = try HuggingFaceCheckpoint.load(from: out)
        XCTAssertEqual(loaded.config, smallConfig)
        XCTAssertEqual(loaded.warnings, [])
        XCTAssertEqual(loaded.parameters.count, layout.totalCount)
        assertTensorsEqual(parameters, loaded.parameters, layout: layout)
        XCTAssertEqual(loaded.vocabPath, out + "/vocab.txt")
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: out + "/vocab.txt")),
            try Data(contentsOf: URL(fileURLWithPath: vocab)))

        // Exactly the layout tensors, under their HF names, tied decoder weight and decoder bias omitted.
        let file = try SafetensorsFile(path: out + "/model.safetensors")
        XCTAssertEqual(file.names, layout.tensors.map(\.name))
        XCTAssertNil(file.tensors["cls.predictions.decoder.weight"])
        XCTAssertNil(file.tensors["cls.predictions.decoder.bias"])
        XCTAssertEqual(file.metadata["format"], "pt")

        let config = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))) as? [String: Any])
        XCTAssertEqual(config["architectures"] as? [String], ["BertForMaskedLM"])
        XCTAssertEqual(config["model_type"] as? String, "bert")
        XCTAssertEqual(config["hidden_act"] as? String, "gelu")
        XCTAssertEqual(config["num_hidden_layers"] as? Int, 2)
        XCTAssertEqual(config["intermediate_size"] as? Int, 12)
        XCTAssertEqual(config["initializer_range"] as? Double, 0.02)
        XCTAssertEqual(config["layer_norm_eps"] as? Double, 1e-12)
    }

    func testExportNeverClobbersExistingDirectory() throws {
        let layout = ParameterLayout(config: smallConfig)
        let parameters = randomParameters(layout)
        let out = dir + "/hf"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
        try "keep me".write(toFile: out + "/notes.txt", atomically: true, encoding: .utf8)
        assertThrows(
            try HuggingFaceCheckpoint.export(
                config: smallConfig, layout: layout, parameters: parameters,
                vocabPath: nil, to: out), containing: ["already exists", "--overwrite"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["notes.txt"])

        // With overwrite, a folder sift did not export is refused too, and left as it was (issue 36).
        assertThrows(
            try HuggingFaceCheckpoint.export(
                config: smallConfig, layout: layout, parameters: parameters,
                vocabPath: nil, to: out, overwrite: true),
            containing: ["no \(HuggingFaceCheckpoint.markerFile) marker", "not replaced"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), ["notes.txt"])

        // Failing part-way (missing vocab) over sift's own export leaves the old export intact and no debris.
        let exported = dir + "/exported"
        try HuggingFaceCheckpoint.export(config: smallConfig, layout: layout, parameters: parameters, vocabPath: nil, to: exported)
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: exported))
        assertThrows(
            try HuggingFaceCheckpoint.export(
                config: smallConfig, layout: layout, parameters: parameters,
                vocabPath: dir + "/nope.txt", to: exported, overwrite: true),
            containing: ["nope.txt"])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: exported)), before)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["hf", "exported"])

        // A regular file is never replaced, even with overwrite.
        let plain = dir + "/plain"
        try "file".write(toFile: plain, atomically: true, encoding: .utf8)
        assertThrows(
            try HuggingFaceCheckpoint.export(
                config: smallConfig, layout: layout, parameters: parameters,
                vocabPath: nil, to: plain, overwrite: true), containing: ["is a file"])
        XCTAssertEqual(try String(contentsOfFile: plain, encoding: .utf8), "file")

        // Wrong buffer size is rejected before touching anything.
        assertThrows(
            try HuggingFaceCheckpoint.export(
                config: smallConfig, layout: layout, parameters: FloatBuffer(count: 3),
                vocabPath: nil, to: dir + "/new"), containing: ["3 floats"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/new"))

        // With overwrite, sift's own export is replaced completely.
        try HuggingFaceCheckpoint.export(
            config: smallConfig, layout: layout, parameters: parameters,
            vocabPath: nil, to: exported, overwrite: true)
        XCTAssertEqual(
            Set(try FileManager.default.contentsOfDirectory(atPath: exported)),
            ["config.json", "model.safetensors", HuggingFaceCheckpoint.markerFile])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["hf", "exported", "plain"])
    }

    func testMissingTensorAndWrongShapeAreErrors() throws {
        let layout = ParameterLayout(config: smallConfig)
        let parameters = randomParameters(layout)
        let missing = dir + "/missing"
        try FileManager.default.createDirectory(atPath: missing, withIntermediateDirectories: false)
        try writeCheckpoint(dir: missing, config: smallConfig, parameters: parameters) {
            $0 == "bert.encoder.layer.1.attention.self.key.bias" ? nil : $0
        }
        assertThrows(
            try HuggingFaceCheckpoint.load(from: missing),
            containing: ["missing tensor", "bert.encoder.layer.1.attention.self.key.bias"])

        // Config says 3 heads' worth of positions but the file has 10 rows: shape error naming both shapes.
        let wrong = dir + "/wrong"
        try FileManager.default.createDirectory(atPath: wrong, withIntermediateDirectories: false)
        try writeCheckpoint(dir: wrong, config: smallConfig, parameters: parameters)
        var bigger = smallConfig
        bigger.maxPositions = 16
        try HuggingFaceConfig.json(for: bigger).write(to: URL(fileURLWithPath: wrong + "/config.json"))
        assertThrows(
            try HuggingFaceCheckpoint.load(from: wrong),
            containing: ["bert.embeddings.position_embeddings.weight", "[10, 8]", "expected [16, 8]"])
    }

    func testEncoderOnlyCheckpointGetsFreshHeadAndWarning() throws {
        var config = smallConfig
        config.hiddenSize = 32
        config.numHeads = 4
        config.intermediateSize = 40
        let layout = ParameterLayout(config: config)
        let parameters = randomParameters(layout)
        let bertModel = dir + "/bertmodel"
        try FileManager.default.createDirectory(atPath: bertModel, withIntermediateDirectories: false)
        let pooler = [Float](repeating: 0.5, count: 32 * 32)
        try writeCheckpoint(
            dir: bertModel, config: config, parameters: parameters,
            extra: [("pooler.dense.weight", [32, 32], pooler), ("pooler.dense.bias", [32], Array(pooler[0..<32]))]
        ) { name in
            name.hasPrefix("cls.") ? nil : String(name.dropFirst("bert.".count))
        }
        let loaded = try HuggingFaceCheckpoint.load(from: bertModel, seed: 7)
        XCTAssertEqual(loaded.warnings.filter { $0.contains("no MLM head") }.count, 1, "\(loaded.warnings)")
        XCTAssertFalse(loaded.warnings.contains { $0.contains("pooler") }, "pooler is ignored silently")
        assertTensorsEqual(parameters, loaded.parameters, layout: layout) { !$0.hasPrefix("cls.") }

        let p = loaded.parameters
        let h = layout.head
        for i in 0..<32 {
            XCTAssertEqual(p[h.layerNormGamma + i], 1)
            XCTAssertEqual(p[h.layerNormBeta + i], 0)
            XCTAssertEqual(p[h.transformBias + i], 0)
        }
        for i in 0..<config.vocabSize { XCTAssertEqual(p[h.decoderBias + i], 0) }
        // Transform weight ~ Normal(0, 0.02): 1024 samples, so mean within 4σ/√n and std within 10%.
        let w = (0..<(32 * 32)).map { Double(p[h.transformWeight + $0]) }
        let mean = w.reduce(0, +) / Double(w.count)
        let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(w.count)).squareRoot()
        XCTAssertLessThan(abs(mean), 4 * 0.02 / 32)
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
        XCTAssertEqual(Set(w).count, w.count, "values are distinct draws")

        // Deterministic in the seed, different for another seed.
        let again = try HuggingFaceCheckpoint.load(from: bertModel, seed: 7)
        assertTensorsEqual(loaded.parameters, again.parameters, layout: layout)
        let other = try HuggingFaceCheckpoint.load(from: bertModel, seed: 8)
        XCTAssertNotEqual(other.parameters[h.transformWeight], p[h.transformWeight])
    }

    func testLegacyNamesTiedDecoderAndDecoderBias() throws {
        let layout = ParameterLayout(config: smallConfig)
        let parameters = randomParameters(layout)
        let word = layout.tensor(named: "bert.embeddings.word_embeddings.weight")!
        let wordValues = Array(parameters.array[word.offset..<(word.offset + word.count)])
        let bias = layout.tensor(named: "cls.predictions.bias")!
        let biasValues = Array(parameters.array[bias.offset..<(bias.offset + bias.count)])

        // gamma/beta names, decoder bias instead of cls.predictions.bias, tied decoder weight, position_ids.
        let legacy = dir + "/legacy"
        try FileManager.default.createDirectory(atPath: legacy, withIntermediateDirectories: false)
        try writeCheckpoint(
            dir: legacy, config: smallConfig, parameters: parameters,
            extra: [
                ("cls.predictions.decoder.weight", word.shape, wordValues),
                ("cls.predictions.decoder.bias", bias.shape, biasValues),
                ("bert.embeddings.position_ids", [1, 10], (0..<10).map(Float.init))
            ]
        ) { name in
            if name == "cls.predictions.bias" { return nil }
            return name.replacingOccurrences(of: "LayerNorm.weight", with: "LayerNorm.gamma")
                .replacingOccurrences(of: "LayerNorm.bias", with: "LayerNorm.beta")
        }
        let loaded = try HuggingFaceCheckpoint.load(from: legacy)
        XCTAssertEqual(loaded.warnings, ["\(legacy): no vocab.txt; the model directory has no tokenizer vocabulary"])
        assertTensorsEqual(parameters, loaded.parameters, layout: layout)

        // An untied decoder weight and unknown tensors are warned about, not fatal.
        let untied = dir + "/untied"
        try FileManager.default.createDirectory(atPath: untied, withIntermediateDirectories: false)
        try writeCheckpoint(
            dir: untied, config: smallConfig, parameters: parameters,
            extra: [
                ("cls.predictions.decoder.weight", word.shape, wordValues.map { $0 + 1 }),
                ("cls.seq_relationship.weight", [2, 8], [Float](repeating: 0, count: 16))
            ])
        let loadedUntied = try HuggingFaceCheckpoint.load(from: untied)
        XCTAssertTrue(loadedUntied.warnings.contains { $0.contains("untied decoders are not supported") }, "\(loadedUntied.warnings)")
        XCTAssertTrue(loadedUntied.warnings.contains { $0.contains("cls.seq_relationship.weight") }, "\(loadedUntied.warnings)")
        assertTensorsEqual(parameters, loadedUntied.parameters, layout: layout)
    }

    func testUnsupportedFormatsAndConfigs() throws {
        let only = dir + "/bin"
        try FileManager.default.createDirectory(atPath: only, withIntermediateDirectories: false)
        try HuggingFaceConfig.json(for: smallConfig).write(to: URL(fileURLWithPath: only + "/config.json"))
        try Data([0x80, 0x02]).write(to: URL(fileURLWithPath: only + "/pytorch_model.bin"))
        assertThrows(try HuggingFaceCheckpoint.load(from: only), containing: ["pytorch_model.bin", "only model.safetensors"])
        assertThrows(try HuggingFaceCheckpoint.load(from: dir + "/absent"), containing: ["absent", "no such"])
        // A sharded checkpoint (index plus shards, no model.safetensors) is named as such, not as a missing file.
        let sharded = dir + "/sharded"
        try FileManager.default.createDirectory(atPath: sharded, withIntermediateDirectories: false)
        try HuggingFaceConfig.json(for: smallConfig).write(to: URL(fileURLWithPath: sharded + "/config.json"))
        try #"{"metadata": {}, "weight_map": {"bert.embeddings.word_embeddings.weight": "model-00001-of-00002.safetensors"}}"#
            .write(toFile: sharded + "/model.safetensors.index.json", atomically: true, encoding: .utf8)
        assertThrows(
            try HuggingFaceCheckpoint.load(from: sharded), containing: ["sharded safetensors checkpoints are not supported", "merge them"])

        try #"{"model_type": "bert", "hidden_act": "gelu_new"}"#.write(toFile: only + "/config.json", atomically: true, encoding: .utf8)
        assertThrows(try HuggingFaceCheckpoint.load(from: only), containing: ["hidden_act", "gelu_new"])
        try #"{"model_type": "roberta"}"#.write(toFile: only + "/config.json", atomically: true, encoding: .utf8)
        assertThrows(try HuggingFaceCheckpoint.load(from: only), containing: ["model_type", "roberta"])
        try #"{"hidden_size": "big"}"#.write(toFile: only + "/config.json", atomically: true, encoding: .utf8)
        assertThrows(try HuggingFaceCheckpoint.load(from: only), containing: ["config.json", "hidden_size"])
        try #"{"hidden_size": 10, "num_attention_heads": 3}"#.write(toFile: only + "/config.json", atomically: true, encoding: .utf8)
        assertThrows(try HuggingFaceCheckpoint.load(from: only), containing: ["not divisible"])
    }

    func testConfigDefaultsFollowTransformers() throws {
        let parsed = try HuggingFaceConfig.parse(
            Data(
                #"{"vocab_size": 100, "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 2, "intermediate_size": 256}"#.utf8),
            path: "c")
        let c = parsed.config
        XCTAssertEqual(c.vocabSize, 100)
        XCTAssertEqual(c.maxPositions, 512)
        XCTAssertEqual(c.typeVocabSize, 2)
        XCTAssertEqual(c.layerNormEps, 1e-12)
        XCTAssertEqual(c.initializerRange, 0.02)
        XCTAssertEqual(c.hiddenDropout, 0.1)
        XCTAssertEqual(c.padTokenId, 0)
        XCTAssertEqual(parsed.warnings, [])
        let full = try HuggingFaceConfig.parse(Data(#"{}"#.utf8), path: "c").config
        XCTAssertEqual([full.vocabSize, full.hiddenSize, full.numLayers, full.numHeads, full.intermediateSize], [30522, 768, 12, 12, 3072])
    }

    func testVocabLargerThanEmbeddingIsRejected() throws {
        let layout = ParameterLayout(config: smallConfig)
        let out = dir + "/hf"
        try HuggingFaceCheckpoint.export(
            config: smallConfig, layout: layout, parameters: randomParameters(layout),
            vocabPath: try writeVocab(smallConfig.vocabSize + 1), to: out)
        assertThrows(try HuggingFaceCheckpoint.load(from: out), containing: ["vocab.txt", "24 tokens", "23"])
    }
}
