/// A source of model-ready MLM samples, as consumed by the trainer. Every output buffer is
/// `seqLen` Int32 values long; `labels` is -100 where no loss is taken. `fill` must be
/// deterministic in (index, epoch) and must not allocate.
public protocol MLMSampleSource {
    var count: Int { get }
    var seqLen: Int { get }
    func fill(
        index: Int, epoch: Int, inputIds: UnsafeMutablePointer<Int32>,
        tokenTypeIds: UnsafeMutablePointer<Int32>, attentionMask: UnsafeMutablePointer<Int32>,
        labels: UnsafeMutablePointer<Int32>)
}
