#if canImport(Glibc)
    import Glibc
#endif

/// A send in flight.
public protocol PendingSend: AnyObject {
    /// Whether the send has completed (the receiver may not have it yet, but the buffer is free).
    func isComplete() -> Bool
}

extension PendingSend {
    /// Waits, polling every `interval` seconds, until the send completes; `meanwhile` runs between polls.
    public func wait(interval: Double = 0.0005, meanwhile: () -> Void = {}) {
        while !isComplete() {
            meanwhile()
            usleep(UInt32(interval * 1e6))
        }
    }
}
