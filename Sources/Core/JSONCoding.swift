import Foundation

// The JSON that `sift bench --json`, `sift project --json`, `sift scaling-summary` (launch/scaling.sh)
// and `sift project --check/--bench/--scaling` write and read. Keys are the Swift names in
// snake_case (`JSONCoding`); optional fields are absent when not measured.

/// Encoders and decoders with the reports' key style.
public enum JSONCoding {
    /// Pretty-printed, sorted keys, snake_case.
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }

    /// Reads a report, or throws `ReportError.unreadable` naming the file and `expected`.
    public static func read<T: Decodable>(_ type: T.Type, from path: String, expected: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReportError.unreadable("cannot read \(path)") }
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw ReportError.unreadable("\(path) is not \(expected): \(describe(error))")
        } catch {
            throw ReportError.unreadable("\(path) is not \(expected)")
        }
    }

    /// One line naming what a decoder missed: the JSON key path and what was wrong there.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.isEmpty
                ? "the top level"
                : keys.enumerated().map { i, k in
                    k.intValue.map { "[\($0)]" } ?? (i == 0 ? k.stringValue : "." + k.stringValue)
                }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "no \"\(key.stringValue)\" in \(path(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unexpected value at \(path(context.codingPath))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "bad value at \(path(context.codingPath))"
        @unknown default:
            return "undecodable"
        }
    }

    /// Writes a report atomically.
    public static func write<T: Encodable>(_ value: T, to path: String) throws {
        do {
            try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ReportError.unreadable("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
