import Foundation
import Model

/// Translation between `BertConfig` and HuggingFace's `config.json` for `BertForMaskedLM`.
public enum HuggingFaceConfig {
    /// `config.json` contents for `config`, as transformers' `BertConfig.to_json_string` would write
    /// them (sorted keys, pretty printed).
    public static func json(for config: BertConfig) throws -> Data {
        // Float → shortest decimal string → Double, so 0.02 is written as 0.02, not 0.0199999995529.
        func decimal(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }
        let object: [String: Any] = [
            "architectures": ["BertForMaskedLM"],
            "model_type": "bert",
            "vocab_size": config.vocabSize,
            "hidden_size": config.hiddenSize,
            "num_hidden_layers": config.numLayers,
            "num_attention_heads": config.numHeads,
            "intermediate_size": config.intermediateSize,
            "hidden_act": "gelu",
            "hidden_dropout_prob": decimal(config.hiddenDropout),
            "attention_probs_dropout_prob": decimal(config.attentionDropout),
            "max_position_embeddings": config.maxPositions,
            "type_vocab_size": config.typeVocabSize,
            "initializer_range": decimal(config.initializerRange),
            "layer_norm_eps": decimal(config.layerNormEps),
            "pad_token_id": config.padTokenId,
            "position_embedding_type": "absolute",
            "torch_dtype": "float32",
            "use_cache": true,
            "classifier_dropout": NSNull(),
            "tie_word_embeddings": true
        ]
        var data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Parses `config.json` bytes. Missing keys take transformers' `BertConfig` defaults (as
    /// `from_pretrained` does); keys naming variants we do not implement are errors.
    /// Returns the config and warnings (one line each).
    public static func parse(_ data: Data, path: String) throws -> (config: BertConfig, warnings: [String]) {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw HuggingFaceError.invalidConfig(path: path, reason: "not valid JSON")
        }
        guard let dict = object as? [String: Any] else {
            throw HuggingFaceError.invalidConfig(path: path, reason: "not a JSON object")
        }
        var warnings: [String] = []

        func int(_ key: String, _ fallback: Int) throws -> Int {
            guard let value = dict[key], !(value is NSNull) else { return fallback }
            guard let n = value as? NSNumber, n.doubleValue == n.doubleValue.rounded(),
                abs(n.doubleValue) < 1e15
            else {
                throw HuggingFaceError.invalidConfig(path: path, reason: "\(key) must be an integer")
            }
            return Int(n.doubleValue)
        }
        func float(_ key: String, _ fallback: Float) throws -> Float {
            guard let value = dict[key], !(value is NSNull) else { return fallback }
            guard let n = value as? NSNumber, n.doubleValue.isFinite else {
                throw HuggingFaceError.invalidConfig(path: path, reason: "\(key) must be a number")
            }
            return Float(n.doubleValue)
        }
        func string(_ key: String) throws -> String? {
            guard let value = dict[key], !(value is NSNull) else { return nil }
            guard let s = value as? String else {
                throw HuggingFaceError.invalidConfig(path: path, reason: "\(key) must be a string")
            }
            return s
        }
        func bool(_ key: String) -> Bool { (dict[key] as? NSNumber)?.boolValue ?? false }

        if let type = try string("model_type"), type != "bert" {
            throw HuggingFaceError.unsupportedConfig(path: path, key: "model_type", value: type)
        }
        // transformers' "gelu" is the exact erf GELU, which is what our model computes.
        let act = try string("hidden_act") ?? "gelu"
        if act != "gelu" { throw HuggingFaceError.unsupportedConfig(path: path, key: "hidden_act", value: act) }
        let positions = try string("position_embedding_type") ?? "absolute"
        if positions != "absolute" {
            throw HuggingFaceError.unsupportedConfig(path: path, key: "position_embedding_type", value: positions)
        }
        for key in ["is_decoder", "add_cross_attention"] where bool(key) {
            throw HuggingFaceError.unsupportedConfig(path: path, key: key, value: "true")
        }
        if let tie = dict["tie_word_embeddings"] as? NSNumber, !tie.boolValue {
            warnings.append("\(path): tie_word_embeddings = false is not supported; the decoder is tied to the word embeddings")
        }

        let config = BertConfig(
            vocabSize: try int("vocab_size", 30522),
            hiddenSize: try int("hidden_size", 768),
            numLayers: try int("num_hidden_layers", 12),
            numHeads: try int("num_attention_heads", 12),
            intermediateSize: try int("intermediate_size", 3072),
            maxPositions: try int("max_position_embeddings", 512),
            typeVocabSize: try int("type_vocab_size", 2),
            layerNormEps: try float("layer_norm_eps", 1e-12),
            hiddenDropout: try float("hidden_dropout_prob", 0.1),
            attentionDropout: try float("attention_probs_dropout_prob", 0.1),
            initializerRange: try float("initializer_range", 0.02),
            padTokenId: try int("pad_token_id", 0))
        if let problem = config.validationError() {
            throw HuggingFaceError.invalidConfig(path: path, reason: problem)
        }
        return (config, warnings)
    }
}
