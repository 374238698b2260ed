import Foundation

/// Reads a list of chunks on worker threads (tokenizing them, or counting their words) and hands their
/// parts back in list order.
///
/// Workers take chunks in list order; the consumer (`next`) receives every part of the first chunk,
/// then of the second, and so on, whatever order the workers finish in (a reorder window). Memory is
/// bounded: a worker whose chunk is not the one being consumed waits once `maxBufferedParts` parts
/// are waiting, while the worker on the consumed chunk never waits, so the window cannot deadlock.
/// An error in a chunk reaches the consumer in its place in the order; workers start no chunk after it.
final class ChunkPipeline<Part: ChunkOutput>: @unchecked Sendable {
    /// What `next` found.
    enum Next {
        case part(Part)
        /// Every chunk has been consumed.
        case end
        /// Nothing arrived within the wait (only with a timeout).
        case waiting
    }

    private struct Cancelled: Error {}
    private final class Slot {
        var parts: [Part] = []
        var done = false
        var error: Error?
    }

    private let order: [Int]
    private let maxBufferedParts: Int
    /// Reads one chunk, passing its parts in order to the given function.
    typealias Producer = (Int, (Part) throws -> Void) throws -> Void

    private let makeProducer: (Int) -> Producer
    private let condition = NSCondition()
    private var slots: [Int: Slot] = [:]  // by position in `order`
    private var nextToStart = 0
    private var head = 0  // position being consumed
    private var buffered = 0
    private var stopAfter = Int.max  // no chunk after a failed one is started
    private var cancelled = false
    private var running = 0
    private var threads: [Thread] = []

    /// - Parameters:
    ///   - order: the chunk indices to produce, in the order `next` returns them.
    ///   - workers: threads (≥ 1).
    ///   - makeProducer: the producer of worker `w` (0-based), called once on that worker's thread before
    ///     its first chunk, so that each worker can read with state of its own.
    init(
        order: [Int], workers: Int, maxBufferedParts: Int? = nil,
        makeProducer: @escaping (Int) -> Producer
    ) {
        self.order = order
        self.maxBufferedParts = maxBufferedParts ?? 2 * max(1, workers)
        self.makeProducer = makeProducer
        let count = max(1, min(workers, order.count))
        running = count
        for w in 0..<count {
            let thread = Thread { [self] in work(worker: w) }
            thread.name = "sift-prepare-\(w)"
            thread.stackSize = 8 << 20
            threads.append(thread)
        }
        for thread in threads { thread.start() }
    }

    /// Workers sharing one producer.
    convenience init(order: [Int], workers: Int, maxBufferedParts: Int? = nil, produce: @escaping Producer) {
        self.init(order: order, workers: workers, maxBufferedParts: maxBufferedParts) { _ in produce }
    }

    private func work(worker: Int) {
        let produce = makeProducer(worker)
        while true {
            condition.lock()
            let position = nextToStart
            guard !cancelled, position < order.count, position <= stopAfter else {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            nextToStart += 1
            let slot = Slot()
            slots[position] = slot
            condition.unlock()
            do {
                try produce(order[position]) { part in
                    condition.lock()
                    defer { condition.unlock() }
                    while !cancelled && position != head && buffered >= maxBufferedParts { condition.wait() }
                    if cancelled { throw Cancelled() }
                    slot.parts.append(part)
                    buffered += 1
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
            if head >= order.count { return .end }
            if let slot = slots[head] {
                if !slot.parts.isEmpty {
                    let part = slot.parts.removeFirst()
                    buffered -= 1
                    if part.last {
                        slots[head] = nil
                        head += 1
                    }
                    condition.broadcast()
                    return .part(part)
                }
                if slot.done, let error = slot.error { throw error }
            }
            if let deadline {
                if !condition.wait(until: deadline) { return .waiting }
            } else {
                condition.wait()
            }
        }
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
