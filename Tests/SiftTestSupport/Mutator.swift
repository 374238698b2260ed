import Foundation

/// Seeded mutations of a valid input, for the parser fuzzers (docs/RELIABILITY.md, "Fuzzed parsers").
///
/// Each call of `mutate` applies one to three of: a bit flip, a truncation, a deleted or duplicated
/// slice, a random byte, non-UTF-8 bytes, a number replaced by a huge, negative or fractional one, a
/// JSON field removed or duplicated, and deep nesting. Every choice comes from a SplitMix64 stream
/// keyed by the seed, so a failing case is reproduced by its seed and index.
public struct Mutator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 }

    /// Numbers a field might be set to: past Int64, Int64's and UInt64's limits, 2^32, negative,
    /// zero, fractional, exponent overflow.
    static let hostileNumbers = [
        "99999999999999999999999", "9223372036854775807", "18446744073709551615", "4294967296",
        "-1", "-9223372036854775808", "0", "0.5", "1e308", "-1e400", "65536", "2147483648"
    ]

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n ≥ 1).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }

    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var b = input
        for _ in 0...below(3) { b = mutateOnce(b) }
        return b
    }

    private mutating func mutateOnce(_ input: [UInt8]) -> [UInt8] {
        var b = input
        let n = b.count
        switch below(11) {
        case 0 where n > 0:  // bit flip
            b[below(n)] ^= UInt8(1 << below(8))
        case 1:  // truncation
            b = Array(b.prefix(below(n + 1)))
        case 2 where n > 0:  // delete a slice
            let start = below(n), len = 1 + below(min(64, n - start))
            b.removeSubrange(start..<start + len)
        case 3 where n > 0:  // duplicate a slice
            let start = below(n), len = 1 + below(min(64, n - start))
            b.insert(contentsOf: Array(b[start..<start + len]), at: start)
        case 4 where n > 0:  // a random byte
            b[below(n)] = UInt8(truncatingIfNeeded: next())
        case 5:  // non-UTF-8 bytes
            b.insert(
                contentsOf: [[0xFF], [0xC3], [0x80, 0x80], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]][below(5)], at: below(n + 1))
        case 6, 7:  // a number replaced by a hostile one
            let digits = b.indices.filter { b[$0] >= 0x30 && b[$0] <= 0x39 && ($0 == 0 || !(b[$0 - 1] >= 0x30 && b[$0 - 1] <= 0x39)) }
            guard !digits.isEmpty else { return b }
            let start = digits[below(digits.count)]
            var end = start
            while end < n && b[end] >= 0x30 && b[end] <= 0x39 { end += 1 }
            b.replaceSubrange(start..<end, with: Array(Self.hostileNumbers[below(Self.hostileNumbers.count)].utf8))
        case 8:  // a JSON field removed: from a quote to the next comma
            let quotes = b.indices.filter { b[$0] == 0x22 }
            guard !quotes.isEmpty else { return b }
            let start = quotes[below(quotes.count)]
            if let comma = b[start...].firstIndex(of: 0x2C) { b.removeSubrange(start...comma) }
        case 9:  // a JSON field duplicated
            let quotes = b.indices.filter { b[$0] == 0x22 }
            guard !quotes.isEmpty else { return b }
            let start = quotes[below(quotes.count)]
            if let comma = b[start...].firstIndex(of: 0x2C) { b.insert(contentsOf: Array(b[start...comma]), at: start) }
        default:  // deep nesting
            let depth = [64, 600, 20_000][below(3)]
            let open: UInt8 = below(2) == 0 ? 0x5B : 0x7B
            let nest = Array(repeating: open, count: depth) + (open == 0x5B ? Array(repeating: 0x5D, count: depth) : [])
            b.insert(contentsOf: nest, at: below(n + 1))
        }
        return b
    }
}

extension Mutator {
    /// Feeds `cases` mutations of `valid` to `parse` and counts the inputs it accepted and refused. A
    /// refusal must be a thrown error whose message contains `naming` (the file the parser was told),
    /// reported through `problem`; a trap ends the process and a hang stalls it, failing the test either way.
    public mutating func run(
        _ valid: [UInt8], cases: Int, naming: String,
        problem: (String) -> Void, _ parse: ([UInt8]) throws -> Void
    ) -> (accepted: Int, refused: Int) {
        var accepted = 0, refused = 0
        for _ in 0..<cases {
            do {
                try parse(mutate(valid))
                accepted += 1
            } catch {
                if !"\(error)".contains(naming) { problem("error without '\(naming)': \(error)") }
                refused += 1
            }
        }
        return (accepted, refused)
    }
}

extension Mutator {
    /// Values a string field is swapped to when another valid value of its kind exists (dtypes, policies, formats).
    static let swaps = [
        "uint16": "uint32", "uint32": "uint16", "text": "jsonl", "jsonl": "text", "bert": "roberta",
        "gelu": "relu", "F32": "F16", "sift-mlm-shards": "sift-mlm-shard"
    ]

    /// A valid-but-wrong version of a JSON document: one field (a number, string or bool, at any depth) set to
    /// another value of its type, as a careless edit or a file from another run would have it — a size or count
    /// off by one, doubled, halved, 0, 1, 100, −1 or a billion times larger; a hash with one digit changed; a dtype swapped; a digit in a
    /// settings string changed; a flag toggled. The document still parses, so only checks against the other
    /// files (vocabulary, shards, model, checkpoint) can refuse it. Returns the document and the change made,
    /// or nil when no field could be changed.
    public mutating func mutateField(_ json: [UInt8]) -> (bytes: [UInt8], change: String)? {
        let text = String(decoding: json, as: UTF8.self)
        let pattern = #""([A-Za-z_][A-Za-z0-9_]*)"\s*:\s*(-?[0-9][0-9.eE+-]*|"[^"\\]*"|true|false)"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        let ns = text as NSString
        let fields = regex.matches(in: text, range: NSRange(location: 0, length: ns.length))
        for _ in 0..<8 where !fields.isEmpty {
            let m = fields[below(fields.count)]
            let key = ns.substring(with: m.range(at: 1)), value = ns.substring(with: m.range(at: 2))
            guard let replacement = wrongValue(value), replacement != value else { continue }
            let mutated = ns.replacingCharacters(in: m.range(at: 2), with: replacement)
            return (Array(mutated.utf8), "\(key): \(value) → \(replacement)")
        }
        return nil
    }

    /// Another valid value of `value`'s JSON type, or nil.
    private mutating func wrongValue(_ value: String) -> String? {
        if value == "true" { return "false" }
        if value == "false" { return "true" }
        if value.hasPrefix("\"") {
            let inner = String(value.dropFirst().dropLast())
            if let swapped = Self.swaps[inner] { return "\"\(swapped)\"" }
            var chars = Array(inner)
            let digits = chars.indices.filter { chars[$0].isHexDigit }
            guard !digits.isEmpty else { return nil }
            let i = digits[below(digits.count)]
            if let d = chars[i].wholeNumberValue, chars[i].isNumber {
                chars[i] = Character("\((d + 1 + below(8)) % 10)")
            } else {
                chars[i] = chars[i] == "a" ? "b" : "a"
            }
            return "\"\(String(chars))\""
        }
        if let n = Int(value) {
            let choices = [n + 1, n - 1, n * 2, n / 2, 0, 1, 100, n + 1000, -1, n &* 1_000_000_007]
            return "\(choices[below(choices.count)])"
        }
        if let x = Double(value) {
            let choices = [x * 2, x / 2, 0, 1, -x]
            return "\(choices[below(choices.count)])"
        }
        return nil
    }
}
