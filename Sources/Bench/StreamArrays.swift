import Foundation

/// STREAM-style memory bandwidth kernels (after McCalpin's STREAM) on three Float32 arrays.
///
/// `copy` is a[i] = b[i] and `triad` is a[i] = b[i] + s·c[i]. Bytes are counted as STREAM counts them:
/// copy 8 bytes per element (one 4-byte read, one 4-byte write), triad 12 (two reads, one write),
/// without the extra read a write-allocate cache performs, so the rates compare with published STREAM
/// figures and with the ring-allreduce bound (`ScalingModel.ringAllreduceSeconds`), which counts memory
/// traffic the same way. The arrays must be much larger than the last-level cache (STREAM asks for
/// 4×) for the rate to be memory's and not the cache's.
public final class StreamArrays {
    /// Elements per array.
    public let count: Int
    private let a: UnsafeMutablePointer<Float>
    private let b: UnsafeMutablePointer<Float>
    private let c: UnsafeMutablePointer<Float>

    /// Allocates three arrays of `count` floats and writes every page, so that timed passes do not
    /// pay first-touch page faults.
    public init(count: Int) {
        self.count = count
        a = .allocate(capacity: count)
        b = .allocate(capacity: count)
        c = .allocate(capacity: count)
        for i in 0..<count {
            a[i] = 0
            b[i] = Float(i & 1023) * 1e-3
            c[i] = 0.5
        }
    }

    deinit {
        a.deallocate()
        b.deallocate()
        c.deallocate()
    }

    /// Bytes one pass of `copy` and of `triad` moves, STREAM's way.
    public var copyBytes: Double { 8 * Double(count) }
    public var triadBytes: Double { 12 * Double(count) }

    /// Seconds of one copy pass.
    public func copy() -> Double {
        let dst = a, src = b, n = count
        return timed { for i in 0..<n { dst[i] = src[i] } }
    }

    /// Seconds of one triad pass.
    public func triad() -> Double {
        let dst = a, x = b, y = c, n = count
        let s: Float = 3
        return timed { for i in 0..<n { dst[i] = x[i] + s * y[i] } }
    }

    /// A value read back from the destination, so the passes cannot be optimised away.
    public var checksum: Float { a[count / 2] + a[count - 1] }

    private func timed(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }
}
