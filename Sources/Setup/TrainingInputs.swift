import Core
import Data
import Foundation
import Interop
import Kernels
import Model
import Training

/// What `sift train` reads from outside: paths and the settings that shape the data and the model.
public struct TrainingInputs: Sendable {
    /// A size name or a config.json path.
    public var config: String
    public var data: String?
    public var trainJsonl: String?
    public var validationJsonl: String?
    public var vocab: String?
    public var seqLen: Int?
    public var trainSubset: Int?
    /// Epochs after which training masks repeat (0: never).
    public var maskCycle: Int
    public var initFrom: String?
    /// Dropout probability of the hidden states and attention.
    public var dropout: Float
    public var export: String?
    public var overwriteExport: Bool

    public init(
        config: String, data: String? = nil, trainJsonl: String? = nil, validationJsonl: String? = nil,
        vocab: String? = nil, seqLen: Int? = nil, trainSubset: Int? = nil, maskCycle: Int = 0,
        initFrom: String? = nil, dropout: Float = 0.1, export: String? = nil, overwriteExport: Bool = false
    ) {
        self.config = config
        self.data = data
        self.trainJsonl = trainJsonl
        self.validationJsonl = validationJsonl
        self.vocab = vocab
        self.seqLen = seqLen
        self.trainSubset = trainSubset
        self.maskCycle = maskCycle
        self.initFrom = initFrom
        self.dropout = dropout
        self.export = export
        self.overwriteExport = overwriteExport
    }
}
