import Foundation

/// The hand-out of a plan's chunks in order, each to whichever asks first, and who took each: in a
/// distributed `sift prepare` pass, rank 0's own worker threads or another rank's request; in `sift vocab`,
/// its threads.
///
/// Handing chunks out as ranks ask, rather than chunk c to rank c mod ranks, lets a rank that is slower
/// (busier cores, slower chunks, or rank 0 also writing) take fewer, so no rank waits for another's
/// leftover share. Who tokenizes a chunk never changes the dataset: rank 0 writes the chunks in order, and
/// a chunk tokenized from a state its predecessor did not end in is tokenized again (`CorpusPlan`).
///
/// Another rank's request is answered with a run of consecutive chunks of at least `batchBytes` in all (or
/// one chunk, if larger), so that a corpus of many small files does not cost a round trip per file, while
/// a rank holds at most about that much work that another rank could have done sooner.
final class ChunkDealer: @unchecked Sendable {
    /// Bytes of corpus dealt at least per request of another rank: about a quarter second of one core's work.
    static let batchBytes = 1 << 20

    private let lock = NSLock()
    private let sizes: [Int]
    private var owners: [Int]
    private var dealt = 0
    private var closed = false

    /// A hand-out of chunks of these sizes in bytes.
    init(sizes: [Int]) {
        self.sizes = sizes
        owners = [Int](repeating: -1, count: sizes.count)
    }

    /// The next chunk, recorded as taken by `rank`; nil when every chunk is taken or the hand-out is closed.
    func take(by rank: Int) -> Int? { take(by: rank, bytes: 1).map { $0.lowerBound } }

    /// The next chunks, at least `bytes` of corpus in all (or to the last chunk), recorded as taken by `rank`;
    /// nil when every chunk is taken or the hand-out is closed.
    func take(by rank: Int, bytes: Int) -> Range<Int>? {
        lock.lock()
        defer { lock.unlock() }
        guard !closed, dealt < owners.count else { return nil }
        let first = dealt
        var total = 0
        while dealt < owners.count && (dealt == first || total < bytes) {
            total += sizes[dealt]
            owners[dealt] = rank
            dealt += 1
        }
        return first..<dealt
    }

    /// The rank that took `chunk`, nil while nobody has.
    func owner(of chunk: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return owners[chunk] < 0 ? nil : owners[chunk]
    }

    /// Bytes of corpus taken by each of `ranks` ranks.
    func bytesByRank(ranks: Int) -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        var bytes = [Int](repeating: 0, count: ranks)
        for (chunk, owner) in owners.enumerated() where owner >= 0 { bytes[owner] += sizes[chunk] }
        return bytes
    }

    /// Hands out nothing more (the job is stopping).
    func close() {
        lock.lock()
        closed = true
        lock.unlock()
    }
}

/// The chunks rank 0 has dealt to this rank and its worker threads have not yet taken: the workers wait in
/// `take` while the rank's main thread, the only one that may use MPI, asks rank 0 for more (`wanted`) and
/// adds them (`add`), or closes the queue when rank 0 has none left or the job stops.
///
/// A worker that finds the queue empty calls the action of `callWhenWanted` before it waits, so the main
/// thread can sleep until then instead of polling for it.
final class DealtChunks: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [Int] = []
    private var waiting = 0
    private var closed = false
    private var whenWanted: (() -> Void)? = nil

    /// Has `action` called (on a worker thread) whenever a worker finds the queue empty; nil stops the calls.
    func callWhenWanted(_ action: (() -> Void)?) {
        condition.lock()
        whenWanted = action
        condition.unlock()
    }

    /// The next chunk, waiting for one; nil once the queue is closed and empty.
    func take() -> Int? {
        condition.lock()
        waiting += 1
        if chunks.isEmpty && !closed, let action = whenWanted {
            condition.unlock()
            action()
            condition.lock()
        }
        defer {
            waiting -= 1
            condition.unlock()
        }
        while chunks.isEmpty && !closed { condition.wait() }
        return chunks.isEmpty ? nil : chunks.removeFirst()
    }

    /// Whether a worker is waiting with nothing to take: time to ask rank 0 for a chunk.
    var wanted: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !closed && waiting > chunks.count
    }

    func add(_ dealt: Range<Int>) {
        condition.lock()
        chunks.append(contentsOf: dealt)
        condition.broadcast()
        condition.unlock()
    }

    /// No more chunks will come; waiting workers take what is left, then nil.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
