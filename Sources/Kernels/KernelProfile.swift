#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Opt-in wall-time accounting per kernel kind, for `sift bench --only profile`: where a training
/// step's time goes, and at what rate (GFLOP/s for the matrix products, GB/s for the rest).
///
/// Off by default: then every kernel pays one branch. When on, only the thread that switched it on
/// (the one running the step) records, and only outermost calls (a dropout inside attention counts
/// as attention), so the kinds add up to at most the step. Worker threads inside a kernel are not
/// timed separately; their time is the kernel's wall time. Storage is allocated once; recording
/// neither allocates nor locks.
public enum KernelProfile {
    /// What a kernel call is counted as.
    public enum Kind: Int, CaseIterable, Sendable {
        /// `Linear` forward/backward: sgemm plus bias broadcast and bias-gradient sums.
        case linear
        /// `Attention` forward/backward: the per-(sample, head) products, softmax and attention dropout.
        case attention
        case layerNorm
        case gelu
        /// Hidden-state dropout (attention-probability dropout counts as attention).
        case dropout
        /// Residual additions and the position-embedding broadcast (`Vector`).
        case residual
        /// Embedding gathers and gradient scatters, and masked-row gathers for the MLM head.
        case embedding
        /// Softmax cross-entropy over the vocabulary with its gradient.
        case crossEntropy
        /// AdamW's update of every parameter.
        case optimizer

        public var name: String {
            switch self {
            case .linear: return "linear (sgemm + bias)"
            case .attention: return "attention (T×T products, softmax)"
            case .layerNorm: return "LayerNorm"
            case .gelu: return "GELU"
            case .dropout: return "dropout (hidden)"
            case .residual: return "residual add"
            case .embedding: return "embedding gather/scatter"
            case .crossEntropy: return "softmax cross-entropy"
            case .optimizer: return "AdamW"
            }
        }
        /// Whether the kind's work is counted in FLOPs (else in bytes moved).
        public var countsFLOPs: Bool { self == .linear || self == .attention }
    }

    /// Totals of one kind since the last `reset`.
    public struct Totals: Sendable {
        public var seconds: Double
        public var calls: Int
        public var flops: Double
        public var bytes: Double
    }

    @usableFromInline nonisolated(unsafe) static var on = false
    @usableFromInline nonisolated(unsafe) static var depth = 0
    @usableFromInline nonisolated(unsafe) static var owner = pthread_self()
    /// Per kind: nanoseconds, calls, FLOPs, bytes.
    @usableFromInline nonisolated(unsafe) static let table: UnsafeMutablePointer<Double> = {
        let p = UnsafeMutablePointer<Double>.allocate(capacity: Kind.allCases.count * 4)
        p.initialize(repeating: 0, count: Kind.allCases.count * 4)
        return p
    }()

    /// Switches recording on (for the calling thread) or off; either way the totals start from zero.
    public static func setEnabled(_ enabled: Bool) {
        reset()
        owner = pthread_self()
        depth = 0
        on = enabled
    }

    public static func reset() { table.update(repeating: 0, count: Kind.allCases.count * 4) }

    public static func totals(_ kind: Kind) -> Totals {
        let p = table + kind.rawValue * 4
        return Totals(seconds: p[0] * 1e-9, calls: Int(p[1]), flops: p[2], bytes: p[3])
    }

    @inlinable @inline(__always)
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Call at a kernel's entry; pass the result to `end`. 0 when not recording this call.
    @inlinable @inline(__always)
    public static func begin() -> UInt64 {
        guard on, pthread_equal(pthread_self(), owner) != 0 else { return 0 }
        depth += 1
        return depth == 1 ? now() : 0
    }

    /// Call at the kernel's exit (a `defer`) with its work: FLOPs of its matrix products, or bytes
    /// read plus written.
    @inlinable @inline(__always)
    public static func end(_ kind: Kind, _ start: UInt64, flops: Double = 0, bytes: Double = 0) {
        guard on, pthread_equal(pthread_self(), owner) != 0 else { return }
        depth -= 1
        guard start != 0 else { return }
        let p = table + kind.rawValue * 4
        p[0] += Double(now() &- start)
        p[1] += 1
        p[2] += flops
        p[3] += bytes
    }
}
