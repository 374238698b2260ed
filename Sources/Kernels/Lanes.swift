/// Eight-lane loads, stores and reductions for the row kernels (LayerNorm, softmax).
///
/// A scalar `sum += x[i]` loop is one chain of dependent adds (4 cycles each), which the compiler may not
/// reorder without fast-math; eight independent lanes run 8× as many adds per cycle. The summation
/// order is fixed — lane `i mod 8` accumulates elements `i`, `i + 8`, … of the whole 8-wide part, the
/// lanes are then added (`SIMD8.sum()`), then the tail elements in order — and a row is always reduced
/// from its first element, so a result depends neither on the thread count nor on how rows are split.
public enum Lanes {
    /// Eight floats from `p + i`.
    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
    }

    /// Stores eight floats at `p + i`.
    @inlinable @inline(__always)
    public static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
    }

    /// `Σ_{i < count} term(i)` in the fixed lane order above: `wide(i)` gives the terms `i ..< i + 8`,
    /// `single(i)` the term `i` of the tail.
    @inlinable @inline(__always)
    public static func sum(count: Int, _ wide: (Int) -> SIMD8<Float>, _ single: (Int) -> Float) -> Float {
        var lanes = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            lanes += wide(i)
            i += 8
        }
        var tail: Float = 0
        while i < count {
            tail += single(i)
            i += 1
        }
        return lanes.sum() + tail
    }

    /// `Σ x[i]` over `count` floats.
    @inlinable @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        sum(count: count, { load(x, $0) }, { x[$0] })
    }

    /// `Σ a[i] · b[i]` over `count` floats.
    @inlinable @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        sum(count: count, { load(a, $0) * load(b, $0) }, { a[$0] * b[$0] })
    }
}
