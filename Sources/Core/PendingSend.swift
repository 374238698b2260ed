/// A send in flight.
public protocol PendingSend: AnyObject {
    /// Whether the send has completed (the receiver may not have it yet, but the buffer is free).
    func isComplete() -> Bool
}

extension PendingSend {
    /// Waits, polling with `PollBackoff`'s sleeps between polls, until the send completes; `meanwhile` runs
    /// between polls.
    public func wait(meanwhile: () -> Void = {}) {
        var backoff = PollBackoff()
        while !isComplete() {
            meanwhile()
            backoff.sleep()
        }
    }
}
