/// How ranks exchange bytes in the scaling model.
///
/// Two media, because the machine we can measure is not the machine we plan for: across nodes each
/// rank has its own network link, whose transfers a NIC performs while the cores compute; within one
/// node every transfer is a copy through the one shared memory system, made by the same cores that
/// compute, and all ranks' copies compete for the same memory bandwidth.
public enum CommunicationMedium: Sendable, Equatable {
    /// One full-duplex link per rank of `bandwidth` bytes/s; every message costs `latency` seconds.
    case network(bandwidth: Double, latency: Double)
    /// Ranks on one machine: transfers are single copies through memory (OpenMPI's shared-memory
    /// transport with CMA). `copyBandwidth` and `triadBandwidth` are the machine's aggregate STREAM
    /// rates (bytes/s, STREAM's counting: copy moves 2 bytes of traffic per byte copied, triad 3 per
    /// byte written) with all ranks streaming at once; `latency` is one small-message exchange.
    case sharedMemory(copyBandwidth: Double, triadBandwidth: Double, latency: Double)

    /// Seconds per message.
    public var latency: Double {
        switch self {
        case .network(_, let l), .sharedMemory(_, _, let l): return l
        }
    }

    /// Whether a transfer can proceed while the rank computes. A NIC moves bytes by DMA, so the
    /// allreduce of early buckets can hide behind backward; shared-memory copies are made by the
    /// cores themselves, which are busy with backward, so on one node nothing is hidden.
    public var overlapsCompute: Bool {
        if case .network = self { return true }
        return false
    }
}
