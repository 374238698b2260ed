import Kernels
import Model
import XCTest

/// SplitMix64 test randomness, independent of the model's generator.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Float { Float(next() >> 40) / 16_777_216 }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

enum Fixtures {
    static func smallConfig(dropout: Float = 0, layers: Int = 2) -> BertConfig {
        BertConfig(
            vocabSize: 37, hiddenSize: 16, numLayers: layers, numHeads: 2, intermediateSize: 32,
            maxPositions: 10, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: dropout,
            attentionDropout: dropout, initializerRange: 0.02)
    }

    /// A model whose every parameter (including biases and LayerNorm) is randomised, so that no
    /// gradient path is trivially zero.
    static func randomModel(_ config: BertConfig, seed: UInt64) -> BertForMaskedLM {
        let model = BertForMaskedLM(config: config, seed: seed)
        var rng = TestRandom(seed ^ 0xABCD)
        for t in model.layout.tensors {
            for i in 0..<t.count {
                let u = rng.uniform() * 2 - 1
                model.parameters[t.offset + i] = t.initialisation == .ones ? 1 + 0.3 * u : 0.4 * u
            }
        }
        return model
    }

    /// B=3, T=7: sample 1 has two padded positions, sample 2 one; a few masked labels per sample.
    static func batch(_ config: BertConfig, seed: UInt64 = 3, count: Int = 3, seqLen: Int = 7) -> MLMBatch {
        var rng = TestRandom(seed)
        var b = MLMBatch(count: count, seqLen: seqLen)
        for s in 0..<count {
            let padded = s % 3 == 1 ? 2 : (s % 3 == 2 ? 1 : 0)
            for t in 0..<seqLen {
                let i = s * seqLen + t
                b.inputIds[i] = Int32(1 + rng.below(config.vocabSize - 1))
                b.tokenTypeIds[i] = t >= seqLen / 2 ? 1 : 0
                if t >= seqLen - padded {
                    b.attentionMask[i] = 0
                    b.inputIds[i] = 0
                    continue
                }
                if t > 0 && (rng.below(3) == 0 || t == 1 + s % 3) { b.labels[i] = Int32(rng.below(config.vocabSize)) }
            }
            b.sampleIndices[s] = 100 + 7 * s
        }
        return b
    }

    /// Σ over samples of lossSum, accumulated in Double.
    static func totalLoss(_ losses: [SampleLoss]) -> Double { losses.reduce(0) { $0 + Double($1.lossSum) } }
}
