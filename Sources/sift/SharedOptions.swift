import ArgumentParser
import Foundation
import Training

/// The step shape `sift bench` and `sift project` share: vocabulary, sequence length, b and ρ.
struct StepShapeOptions: ParsableArguments {
    @Option(help: "Vocabulary size of the model.")
    var vocabSize: Int = 30522
    @Option(help: "Sequence length.")
    var seqLen: Int = 128
    @Option(help: "Samples backpropagated per step on one rank or node (b).")
    var batchSize: Int = trainDefaults.batchSize
    @Option(help: "Selection fraction ρ of SIFT (it scores b/ρ candidates).")
    var selectFraction: Double = trainDefaults.selectFraction

    func validate() throws {
        guard vocabSize >= 5 else { throw ValidationError("--vocab-size must be at least 5") }
        guard selectFraction > 0 && selectFraction <= 1 else { throw ValidationError("--select-fraction must be in (0, 1]") }
        guard batchSize >= 1, seqLen >= 8, seqLen <= 512 else {
            throw ValidationError("--batch-size must be positive, --seq-len in 8...512")
        }
    }
}
