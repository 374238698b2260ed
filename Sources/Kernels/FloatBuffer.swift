/// A contiguous, 64-byte-aligned, zero-initialised buffer of `Float32` values that owns its memory.
///
/// Parameters, gradients, optimizer moments and activation workspaces all live in buffers of this
/// type. Hot loops take `pointer` (an `UnsafeMutablePointer<Float>`) and offsets into it, so no
/// per-element bounds checks or copies happen inside a training step.
public final class FloatBuffer: @unchecked Sendable {
    /// Start of the storage; valid for `count` elements for the lifetime of the buffer.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of `Float` elements.
    public let count: Int

    /// Allocates `count` floats, all zero.
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer count must be non-negative")
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride,
            alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        self.count = count
    }

    /// Allocates a buffer holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { pointer.deallocate() }

    /// Sets every element to zero.
    @inlinable public func zero() { pointer.update(repeating: 0, count: count) }

    /// Copies the contents of `other`, which must have the same count.
    public func copy(from other: FloatBuffer) {
        precondition(other.count == count, "FloatBuffer.copy: count mismatch \(other.count) vs \(count)")
        pointer.update(from: other.pointer, count: count)
    }

    /// The whole buffer as an unsafe buffer pointer.
    @inlinable public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    /// A copy of the contents as an array (for tests and serialisation, not for hot loops).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Element access for tests and set-up code; hot loops use `pointer`.
    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}
