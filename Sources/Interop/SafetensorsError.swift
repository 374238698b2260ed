/// Why a safetensors file could not be read or written. Every case names the file, and the tensor
/// where one is involved, so the one-line description is enough to find the problem.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened, read, written or renamed (`reason` is the OS error text).
    case io(path: String, reason: String)
    /// The file is shorter than the 8-byte header-length prefix (includes the empty file).
    case truncated(path: String, size: Int)
    /// The declared header length does not fit in the file.
    case headerTooLarge(path: String, headerLength: UInt64, fileSize: Int)
    /// The header is not a UTF-8 JSON object.
    case invalidHeader(path: String, reason: String)
    /// One entry of the header is malformed (missing/ill-typed dtype, shape or data_offsets).
    case invalidEntry(path: String, tensor: String, reason: String)
    /// The dtype string is not one of the safetensors dtypes.
    case unknownDtype(path: String, tensor: String, dtype: String)
    /// The dtype is valid but cannot be converted to Float32 (integers, bool, fp8, f64).
    case unsupportedDtype(path: String, tensor: String, dtype: String)
    /// `data_offsets` reach outside the data region.
    case offsetsOutOfBounds(path: String, tensor: String, begin: Int, end: Int, dataSize: Int)
    /// `end - begin` differs from product(shape) × dtype size.
    case byteCountMismatch(path: String, tensor: String, shape: [Int], dtype: String, expected: Int, actual: Int)
    /// Two tensors share bytes.
    case overlap(path: String, first: String, second: String)
    /// The tensors leave bytes of the data region unused (the reference reader rejects this too).
    case gap(path: String, at: Int, dataSize: Int)
    /// A tensor was asked for that the file does not contain.
    case missingTensor(path: String, tensor: String)
    /// A tensor to be written has a shape whose element count differs from its data.
    case writeShapeMismatch(path: String, tensor: String, shape: [Int], count: Int)
    /// The same tensor name was given twice to the writer.
    case duplicateName(path: String, tensor: String)

    public var description: String {
        switch self {
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .truncated(path, size):
            return "\(path): not a safetensors file: \(size) bytes, shorter than the 8-byte header length"
        case let .headerTooLarge(path, n, size):
            return "\(path): safetensors header length \(n) does not fit in the \(size)-byte file"
        case let .invalidHeader(path, reason):
            return "\(path): invalid safetensors header: \(reason)"
        case let .invalidEntry(path, tensor, reason):
            return "\(path): tensor '\(tensor)': \(reason)"
        case let .unknownDtype(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has unknown dtype '\(dtype)'"
        case let .unsupportedDtype(path, tensor, dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype); only F32, F16 and BF16 can be read as floats"
        case let .offsetsOutOfBounds(path, tensor, begin, end, dataSize):
            return "\(path): tensor '\(tensor)' data_offsets [\(begin), \(end)] outside the \(dataSize)-byte data region"
        case let .byteCountMismatch(path, tensor, shape, dtype, expected, actual):
            return "\(path): tensor '\(tensor)' of shape \(shape) and dtype \(dtype) needs \(expected) bytes but "
                + "data_offsets span \(actual)"
        case let .overlap(path, first, second):
            return "\(path): tensors '\(first)' and '\(second)' overlap"
        case let .gap(path, at, dataSize):
            return "\(path): data region of \(dataSize) bytes is not fully covered by tensors (first unused byte at \(at))"
        case let .missingTensor(path, tensor):
            return "\(path): no tensor named '\(tensor)'"
        case let .writeShapeMismatch(path, tensor, shape, count):
            return "\(path): cannot write tensor '\(tensor)': shape \(shape) does not hold \(count) elements"
        case let .duplicateName(path, tensor):
            return "\(path): cannot write tensor '\(tensor)' twice"
        }
    }
}
