#if canImport(Glibc)
    import Glibc
#endif

/// Sleeps between polls of something that is usually far off (a chunk's tokens from another rank, the
/// matching receive of a large send): 50 µs at first, doubling to 2 ms. Waking every 200 µs for the whole
/// of a chunk's tokenizing would spend a share of the core the rank's worker threads need; a wait that
/// ends within 2 ms of its event costs nothing next to a chunk's seconds of work.
public struct PollBackoff {
    /// The next sleep, in microseconds.
    public private(set) var micros: UInt32 = 50
    /// The longest sleep, in microseconds.
    public static let maxMicros: UInt32 = 2000

    public init() {}

    /// Sleeps, then doubles the next sleep up to `maxMicros`.
    public mutating func sleep() {
        usleep(micros)
        micros = min(2 * micros, Self.maxMicros)
    }
}
