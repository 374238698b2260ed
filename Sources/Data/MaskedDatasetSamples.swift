/// One split of a `ShardedDataset` with MLM masking applied on the fly.
/// For validation, pass a masker with a dedicated seed and always use `epoch: 0` so the
/// masks are fixed.
public struct MaskedDatasetSamples: MLMSampleSource, @unchecked Sendable {
    public let dataset: ShardedDataset
    public let split: DatasetSplit
    public let masker: MLMMasker
    /// Masks repeat every `maskCycle` epochs (epoch e is masked as epoch e mod maskCycle), like the
    /// `dupe_factor` of BERT's `create_pretraining_data.py`; 1 gives static masks (a sample keeps its
    /// mask on every visit, so its last training loss is a loss of the same masked labels);
    /// 0 draws new masks every epoch (RoBERTa's dynamic masking, the default).
    public let maskCycle: Int

    public init(dataset: ShardedDataset, split: DatasetSplit, masker: MLMMasker, maskCycle: Int = 0) {
        precondition(maskCycle >= 0, "maskCycle must be non-negative")
        self.dataset = dataset
        self.split = split
        self.masker = masker
        self.maskCycle = maskCycle
    }

    public var count: Int { dataset.count(split) }
    public var seqLen: Int { dataset.seqLen }

    /// `index` is the global sequence index within the split; it also keys the mask randomness.
    public func fill(
        index: Int, epoch: Int, inputIds: UnsafeMutablePointer<Int32>,
        tokenTypeIds: UnsafeMutablePointer<Int32>, attentionMask: UnsafeMutablePointer<Int32>,
        labels: UnsafeMutablePointer<Int32>
    ) {
        let n = dataset.seqLen
        dataset.copySequence(split, index: index, into: inputIds)
        let pad = masker.padId
        for i in 0..<n {
            tokenTypeIds[i] = 0
            attentionMask[i] = inputIds[i] == pad ? 0 : 1
        }
        masker.mask(
            tokens: inputIds, length: n, epoch: maskCycle > 0 ? epoch % maskCycle : epoch, globalIndex: index, inputIds: inputIds,
            labels: labels)
    }
}
