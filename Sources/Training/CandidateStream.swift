import Core
import Selection

/// The deterministic order in which training samples are offered as candidates.
///
/// Position `p` of the stream is sample `permutation(epoch: p / N)[p % N]`, where each epoch's
/// permutation is a Fisher–Yates shuffle keyed by (seed, epoch). Step `s` draws its pool from the
/// stream position `TrainingOptions.streamStart(atStep: s)` (`s·B` without a sifting delay), so
/// the data position is a function of the step alone: resuming needs no saved reader state, and
/// every rank computes the same pool.
public final class CandidateStream {
    /// Number of training samples N.
    public let sampleCount: Int
    public let seed: UInt64
    private var cachedEpoch = -1
    private var cachedPermutation: [Int] = []

    public init(sampleCount: Int, seed: UInt64) {
        precondition(sampleCount > 0, "CandidateStream needs at least one sample")
        self.sampleCount = sampleCount
        self.seed = seed
    }

    /// The epoch that stream position `position` falls in.
    public func epoch(ofPosition position: Int) -> Int { position / sampleCount }

    /// The shuffled order of epoch `epoch` (a permutation of 0..<N).
    public func permutation(epoch: Int) -> [Int] {
        if epoch == cachedEpoch { return cachedPermutation }
        var order = Array(0..<sampleCount)
        // Fisher–Yates, each swap drawn from a counter hash so the order is a pure function of (seed, epoch).
        for i in stride(from: sampleCount - 1, to: 0, by: -1) {
            let r = CounterHash.bits(seed, RandomStream.candidateOrder.rawValue, UInt64(epoch), UInt64(i))
            let j = Int(r % UInt64(i + 1))
            order.swapAt(i, j)
        }
        cachedEpoch = epoch
        cachedPermutation = order
        return order
    }

    /// Global sample indices and epochs of stream positions `start ..< start + count`.
    public func candidates(from start: Int, count: Int) -> (indices: [Int], epochs: [Int]) {
        var indices = [Int](), epochs = [Int]()
        indices.reserveCapacity(count)
        epochs.reserveCapacity(count)
        var position = start
        while position < start + count {
            let e = epoch(ofPosition: position)
            let perm = permutation(epoch: e)
            let epochEnd = (e + 1) * sampleCount
            while position < min(epochEnd, start + count) {
                indices.append(perm[position - e * sampleCount])
                epochs.append(e)
                position += 1
            }
        }
        return (indices, epochs)
    }
}
