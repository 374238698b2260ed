#if canImport(Glibc)
    import Glibc
#endif

/// Sleeps between polls of something that is usually far off (a chunk's tokens from another rank, the
/// matching receive of a large send, a request for chunks): 50 µs at first, doubling to a longest sleep
/// (20 ms unless the poller needs a quicker answer). Every wake-up of a polling thread takes a core from a
/// worker thread of its own rank or another (and a switch between processes costs more than one within a
/// process), while a chunk takes about a second of work.
public struct PollBackoff {
    /// The next sleep, in microseconds.
    public private(set) var micros: UInt32 = 50
    /// The longest sleep, in microseconds.
    public let maxMicros: UInt32
    /// The longest sleep unless a poller asks for less, in microseconds.
    public static let defaultMaxMicros: UInt32 = 20_000

    /// Sleeps of 50 µs at first, doubling to `maxMicros`.
    public init(maxMicros: UInt32 = Self.defaultMaxMicros) { self.maxMicros = max(50, maxMicros) }

    /// Sleeps, then doubles the next sleep up to `maxMicros`.
    public mutating func sleep() {
        usleep(micros)
        micros = min(2 * micros, maxMicros)
    }
}
