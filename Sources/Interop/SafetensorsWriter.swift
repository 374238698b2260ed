import Core
import Foundation

/// Writes Float32 tensors as a safetensors file, durably (temporary file, fsync, rename).
public enum SafetensorsWriter {
    /// One tensor to write: `count` floats at `data`, which must equal product(`shape`).
    public struct Tensor {
        public let name: String
        public let shape: [Int]
        public let data: UnsafePointer<Float>
        public let count: Int
        public init(name: String, shape: [Int], data: UnsafePointer<Float>, count: Int) {
            self.name = name
            self.shape = shape
            self.data = data
            self.count = count
        }
    }

    /// The header bytes (JSON padded with spaces to a multiple of 8, as the reference
    /// implementation does, so the data region starts 8-byte aligned) for tensors stored back to
    /// back in the given order. Exposed for tests.
    public static func header(for tensors: [Tensor], metadata: [String: String], path: String) throws -> [UInt8] {
        var seen = Set<String>()
        var json = "{"
        if !metadata.isEmpty {
            let entries = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            json += "\"__metadata__\":{" + entries.joined(separator: ",") + "}"
        }
        var offset = 0
        for t in tensors {
            guard t.name != "__metadata__", seen.insert(t.name).inserted else {
                throw SafetensorsError.duplicateName(path: path, tensor: t.name)
            }
            guard t.shape.allSatisfy({ $0 >= 0 }), t.shape.reduce(1, *) == t.count else {
                throw SafetensorsError.writeShapeMismatch(path: path, tensor: t.name, shape: t.shape, count: t.count)
            }
            let end = offset + 4 * t.count
            if json.count > 1 { json += "," }
            json +=
                "\(jsonString(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var bytes = Array(json.utf8)
        while bytes.count % 8 != 0 { bytes.append(UInt8(ascii: " ")) }
        return bytes
    }

    /// Writes `tensors` in the given order to `path`. On error, `path` is left as it was.
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to path: String) throws {
        let header = try header(for: tensors, metadata: metadata, path: path)
        var prefix = [UInt8](repeating: 0, count: 8)
        let n = UInt64(header.count)
        for i in 0..<8 { prefix[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
        try DurableFile.write(to: path) { file in
            try file.write(prefix)
            try file.write(header)
            for t in tensors where t.count > 0 {
                try file.write(UnsafeRawPointer(t.data), count: 4 * t.count)
            }
        }
    }

    /// A JSON string literal for `s` (quotes, backslashes and control characters escaped).
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
