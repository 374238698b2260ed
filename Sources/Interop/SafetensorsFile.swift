import Foundation

#if _endian(big)
    #error("safetensors data is little-endian; big-endian hosts are not supported")
#endif

/// A validated, memory-mapped safetensors file.
///
/// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, ..., "__metadata__": {String: String}}`,
/// then the tensor bytes; offsets are relative to the first byte after the header. Construction
/// checks everything the reference implementation checks (offsets in bounds, byte counts match
/// shapes, tensors neither overlap nor leave gaps), so later reads cannot go out of bounds.
public struct SafetensorsFile: @unchecked Sendable {
    /// One tensor entry of the header.
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        public let dtype: SafetensorsDtype
        public let shape: [Int]
        /// Byte range inside the data region (after the header).
        public let dataRange: Range<Int>
        /// Number of elements, product of `shape` (1 for a scalar `[]`).
        public var count: Int { shape.reduce(1, *) }
    }

    /// The file the tensors came from (used in error messages).
    public let path: String
    /// `__metadata__` of the header (empty if absent).
    public let metadata: [String: String]
    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// Tensor names in file (data offset) order.
    public let names: [String]

    private let bytes: Data
    private let dataStart: Int

    /// Maps and validates the file at `path`.
    public init(path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw SafetensorsError.io(path: path, reason: "cannot read: \((error as NSError).localizedDescription)")
        }
        try self.init(bytes: data, path: path)
    }

    /// Validates in-memory safetensors bytes; `path` is only used in error messages.
    public init(bytes: Data, path: String) throws {
        self.path = path
        self.bytes = bytes
        let size = bytes.count
        guard size >= 8 else { throw SafetensorsError.truncated(path: path, size: size) }
        let headerLength: UInt64 = bytes.withUnsafeBytes { raw in
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(raw[i]) << (8 * UInt64(i)) }
            return n
        }
        guard headerLength <= UInt64(size - 8) else {
            throw SafetensorsError.headerTooLarge(path: path, headerLength: headerLength, fileSize: size)
        }
        let n = Int(headerLength)
        dataStart = 8 + n
        let dataSize = size - dataStart
        let headerBytes = bytes.subdata(in: bytes.startIndex + 8..<bytes.startIndex + 8 + n)
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw SafetensorsError.invalidHeader(path: path, reason: "does not start with '{'")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw SafetensorsError.invalidHeader(path: path, reason: "not valid JSON")
        }
        guard let header = object as? [String: Any] else {
            throw SafetensorsError.invalidHeader(path: path, reason: "not a JSON object")
        }

        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else {
                    throw SafetensorsError.invalidHeader(path: path, reason: "__metadata__ is not an object")
                }
                for (k, v) in dict {
                    guard let s = v as? String else {
                        throw SafetensorsError.invalidHeader(path: path, reason: "__metadata__ value for '\(k)' is not a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            tensors[name] = try Self.parseEntry(name: name, value: value, path: path, dataSize: dataSize)
        }

        // Sorted by offset, each tensor must start where the previous one ended and the last must
        // end at the end of the file: this rules out overlaps, gaps and trailing bytes.
        let ordered = tensors.values.sorted {
            ($0.dataRange.lowerBound, $0.dataRange.upperBound, $0.name) < ($1.dataRange.lowerBound, $1.dataRange.upperBound, $1.name)
        }
        var end = 0
        var previous: String?
        for t in ordered {
            if t.dataRange.lowerBound < end, let previous {
                throw SafetensorsError.overlap(path: path, first: previous, second: t.name)
            }
            if t.dataRange.lowerBound > end { throw SafetensorsError.gap(path: path, at: end, dataSize: dataSize) }
            end = t.dataRange.upperBound
            previous = t.name
        }
        if end != dataSize { throw SafetensorsError.gap(path: path, at: end, dataSize: dataSize) }

        self.metadata = metadata
        self.tensors = tensors
        self.names = ordered.map(\.name)
    }

    /// A non-negative integer from a JSON number (rejecting fractions and values beyond 2^53).
    private static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let d = number.doubleValue
        guard d >= 0, d <= 9.0e15, d == d.rounded() else { return nil }
        return Int(d)
    }

    private static func parseEntry(name: String, value: Any, path: String, dataSize: Int) throws -> TensorInfo {
        func bad(_ reason: String) -> SafetensorsError { .invalidEntry(path: path, tensor: name, reason: reason) }
        guard let entry = value as? [String: Any] else { throw bad("entry is not an object") }
        guard let dtypeName = entry["dtype"] as? String else { throw bad("missing or non-string 'dtype'") }
        guard let dtype = SafetensorsDtype(rawValue: dtypeName) else {
            throw SafetensorsError.unknownDtype(path: path, tensor: name, dtype: dtypeName)
        }
        guard let shapeArray = entry["shape"] as? [Any] else { throw bad("missing or non-array 'shape'") }
        var shape: [Int] = []
        var elements = 1
        for dim in shapeArray {
            guard let d = integer(dim) else { throw bad("shape \(shapeArray) has a non-integer or negative dimension") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            if overflow || product > Int(UInt32.max) * 16 { throw bad("shape \(shapeArray) is too large") }
            elements = product
            shape.append(d)
        }
        guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
            let begin = integer(offsets[0]), let end = integer(offsets[1])
        else {
            throw bad("'data_offsets' must be two non-negative integers")
        }
        guard begin <= end, end <= dataSize else {
            throw SafetensorsError.offsetsOutOfBounds(path: path, tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        let expected = elements * dtype.size
        guard end - begin == expected else {
            throw SafetensorsError.byteCountMismatch(
                path: path, tensor: name, shape: shape, dtype: dtypeName,
                expected: expected, actual: end - begin)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    /// The entry for `name`, or a `missingTensor` error.
    public func info(_ name: String) throws -> TensorInfo {
        guard let t = tensors[name] else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        return t
    }

    /// Copies tensor `name` into `destination` (which must hold `info(name).count` floats),
    /// widening F16 and BF16 to Float32.
    public func read(_ name: String, into destination: UnsafeMutablePointer<Float>) throws {
        let t = try info(name)
        guard t.dtype.convertsToFloat32 else {
            throw SafetensorsError.unsupportedDtype(path: path, tensor: name, dtype: t.dtype.rawValue)
        }
        let count = t.count
        bytes.withUnsafeBytes { raw in
            // Offsets need not be aligned, so copy bytes (F32) or load unaligned (16-bit types).
            let source = raw.baseAddress! + dataStart + t.dataRange.lowerBound
            switch t.dtype {
            case .f32:
                UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
            case .f16:
                for i in 0..<count {
                    destination[i] = HalfPrecision.float(fromF16: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                }
            case .bf16:
                for i in 0..<count {
                    destination[i] = HalfPrecision.float(fromBF16: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                }
            default:
                break
            }
        }
    }

    /// Tensor `name` as Float32 values (convenience for tests and small tensors).
    public func floats(_ name: String) throws -> [Float] {
        let count = try info(name).count
        var result = [Float](repeating: 0, count: count)
        try result.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { try read(name, into: base) }
        }
        return result
    }
}
