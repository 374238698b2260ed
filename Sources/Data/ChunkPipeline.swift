import Foundation

/// Reads chunks on worker threads (tokenizing them, or counting their words) and hands their parts back
/// in the order the chunks were taken.
///
/// Workers take chunks one at a time from a source, a function that hands out the next chunk (a
/// `ChunkDealer`: on rank 0 of `sift prepare` shared with the other ranks; on those ranks, what rank 0 gave
/// them, `DealtChunks`).
/// The consumer (`next`) receives every part of the first chunk taken, then of the second, and so on,
/// whatever order the workers finish in (a reorder window). Memory is
/// bounded: a worker whose chunk is not the one being consumed waits once parts of `maxBufferedWeight`
/// in all (`ChunkOutput.weight`) are waiting, while the worker on the consumed chunk never waits, so the window cannot deadlock.
/// An error in a chunk reaches the consumer in its place in the order; workers start no chunk after it.
final class ChunkPipeline<Part: ChunkOutput>: @unchecked Sendable {
    /// What `next` found.
    enum Next {
        case part(Part)
        /// Every chunk has been consumed.
        case end
        /// Nothing arrived within the wait (only with a timeout), or `wake` was called.
        case waiting
    }

    private struct Cancelled: Error {}
    private final class Slot {
        var parts: [Part] = []
        var done = false
        var error: Error?
    }

    private let take: () -> Int?
    private let maxBufferedWeight: Int
    /// Reads one chunk, passing its parts in order to the given function.
    typealias Producer = (Int, (Part) throws -> Void) throws -> Void

    private let makeProducer: (Int) -> Producer
    private let condition = NSCondition()
    private var slots: [Int: Slot] = [:]  // by position: the chunk taken first is at 0
    private let takeLock = NSLock()  // held while a worker takes a chunk, so positions follow the source's order
    private var exhausted = false  // the source has no more chunks
    private var nextToStart = 0
    private var head = 0  // position being consumed
    private var buffered = 0
    private var stopAfter = Int.max  // no chunk after a failed one is started
    private var cancelled = false
    private var woken = false  // `wake` was called and no `next` has returned `.waiting` for it yet
    private var running = 0
    private var threads: [Thread] = []

    /// - Parameters:
    ///   - take: the next chunk index to produce, nil when there are no more. Workers call it one at a
    ///     time; it may wait (and must return nil, ending the workers, before `cancel` can finish).
    ///   - workers: threads (≥ 1).
    ///   - makeProducer: the producer of worker `w` (0-based), called once on that worker's thread before
    ///     its first chunk, so that each worker can read with state of its own.
    init(
        take: @escaping () -> Int?, workers: Int, maxBufferedWeight: Int? = nil,
        makeProducer: @escaping (Int) -> Producer
    ) {
        self.take = take
        self.maxBufferedWeight = maxBufferedWeight ?? 2 * max(1, workers) * Part.fullWeight
        self.makeProducer = makeProducer
        let count = max(1, workers)
        running = count
        for w in 0..<count {
            let thread = Thread { [self] in work(worker: w) }
            thread.name = "sift-prepare-\(w)"
            thread.stackSize = 8 << 20
            threads.append(thread)
        }
        for thread in threads { thread.start() }
    }

    private func work(worker: Int) {
        let produce = makeProducer(worker)
        func leave() {
            running -= 1
            condition.broadcast()
            condition.unlock()
        }
        while true {
            takeLock.lock()
            condition.lock()
            guard !cancelled, !exhausted, nextToStart <= stopAfter else {
                takeLock.unlock()
                return leave()
            }
            condition.unlock()
            let chunk = take()
            condition.lock()
            guard let chunk else {
                exhausted = true
                takeLock.unlock()
                return leave()
            }
            let position = nextToStart
            nextToStart += 1
            let slot = Slot()
            slots[position] = slot
            condition.unlock()
            takeLock.unlock()
            do {
                try produce(chunk) { part in
                    condition.lock()
                    defer { condition.unlock() }
                    while !cancelled && position != head && buffered >= maxBufferedWeight { condition.wait() }
                    if cancelled { throw Cancelled() }
                    slot.parts.append(part)
                    buffered += part.weight
                    condition.broadcast()
                }
                condition.lock()
                slot.done = true
            } catch {
                condition.lock()
                slot.error = error
                slot.done = true
                stopAfter = min(stopAfter, position)
            }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next part in order, waiting for it at most `timeout` seconds (nil: as long as it takes).
    /// Throws the error of a chunk that failed, in its place.
    func next(timeout: Double? = nil) throws -> Next {
        condition.lock()
        defer { condition.unlock() }
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while true {
            if exhausted && head >= nextToStart { return .end }
            if let slot = slots[head] {
                if !slot.parts.isEmpty {
                    let part = slot.parts.removeFirst()
                    buffered -= part.weight
                    if part.last {
                        slots[head] = nil
                        head += 1
                    }
                    condition.broadcast()
                    return .part(part)
                }
                if slot.done, let error = slot.error { throw error }
            }
            if woken {
                woken = false
                return .waiting
            }
            if let deadline {
                if !condition.wait(until: deadline) { return .waiting }
            } else {
                condition.wait()
            }
        }
    }

    /// Ends a waiting `next` now with `.waiting` (or the next one, if none waits): the consumer has
    /// something else to do, e.g. ask another rank for chunks.
    func wake() {
        condition.lock()
        woken = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the workers (after an error elsewhere) and waits for them to leave.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    deinit { cancel() }
}
