import Foundation

/// The messages the ranks of a distributed `sift prepare` exchange, as bytes: a rank's request for a chunk
/// and rank 0's answer, a rank's chunk parts (or the error it met) for rank 0, and rank 0's word on how the
/// pass ended.
enum PrepareMessage {
    /// Message tags.
    static let dataTag: Int32 = 4001
    static let stopTag: Int32 = 4002
    static let outcomeTag: Int32 = 4003
    /// A rank asks rank 0 for chunks (one byte); rank 0 answers under the same tag (`encodeDealt`).
    static let dealTag: Int32 = 4004

    /// Rank 0's answer to a request for chunks: a run of consecutive chunk indices, or nil when none is left.
    static func encodeDealt(_ chunks: Range<Int>?) -> [UInt8] {
        var w = ByteWriter()
        w.int(chunks?.lowerBound ?? 0)
        w.int(chunks?.count ?? 0)
        return w.bytes
    }

    static func decodeDealt(_ bytes: [UInt8]) -> Range<Int>? {
        var r = ByteReader(bytes)
        let first = r.int(), count = r.int()
        return count > 0 ? first..<(first + count) : nil
    }

    /// What a rank sends rank 0 under `dataTag`.
    enum Sent {
        case part(ChunkPart)
        /// The rank met an error tokenizing its chunk `chunk`.
        case error(chunk: Int, message: String, io: Bool)
        /// The rank has sent all it will send this pass.
        case finished
    }

    /// How rank 0 ended a pass (`outcomeTag`).
    enum Outcome: Equatable {
        case done
        /// Tokenize again with this fallback validation document.
        case again(fallback: Int)
        case failed(message: String, io: Bool)
    }

    static func encode(_ data: Sent) -> [UInt8] {
        var w = ByteWriter()
        switch data {
        case .part(let p):
            w.int(0)
            w.int(p.chunk)
            w.bool(p.first)
            w.bool(p.last)
            w.int(p.tokens.count)
            p.tokens.withUnsafeBytes { w.bytes.append(contentsOf: $0) }
            w.ints(p.documentEnds)
            w.carry(p.startCarry)
            w.carry(p.endCarry)
            let c = p.counts
            for v in [c.bytes, c.invalidUTF8, c.lines, c.removedLines, c.brokenLines, c.recordsWithoutText] { w.int(v) }
            w.bool(c.binary)
            w.ints(c.brokenPlaces)
            w.ints(c.textlessPlaces)
        case .error(let chunk, let message, let io):
            w.int(1)
            w.int(chunk)
            w.string(message)
            w.bool(io)
        case .finished:
            w.int(2)
        }
        return w.bytes
    }

    static func decodeData(_ bytes: [UInt8]) -> Sent {
        var r = ByteReader(bytes)
        switch r.int() {
        case 0:
            var p = ChunkPart(chunk: r.int())
            p.first = r.bool()
            p.last = r.bool()
            let n = r.int()
            p.tokens = [Int32](repeating: 0, count: n)
            p.tokens.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[r.offset..<(r.offset + 4 * n)]))
                }
            }
            r.offset += 4 * n
            p.documentEnds = r.ints()
            p.startCarry = r.carry()
            p.endCarry = r.carry()
            p.counts.bytes = r.int()
            p.counts.invalidUTF8 = r.int()
            p.counts.lines = r.int()
            p.counts.removedLines = r.int()
            p.counts.brokenLines = r.int()
            p.counts.recordsWithoutText = r.int()
            p.counts.binary = r.bool()
            p.counts.brokenPlaces = r.ints()
            p.counts.textlessPlaces = r.ints()
            return .part(p)
        case 1:
            let chunk = r.int(), message = r.string(), io = r.bool()
            return .error(chunk: chunk, message: message, io: io)
        default:
            return .finished
        }
    }

    static func encode(_ outcome: Outcome) -> [UInt8] {
        var w = ByteWriter()
        switch outcome {
        case .done: w.int(0)
        case .again(let fallback):
            w.int(1)
            w.int(fallback)
        case .failed(let message, let io):
            w.int(2)
            w.string(message)
            w.bool(io)
        }
        return w.bytes
    }

    static func decodeOutcome(_ bytes: [UInt8]) -> Outcome {
        var r = ByteReader(bytes)
        switch r.int() {
        case 0: return .done
        case 1: return .again(fallback: r.int())
        default:
            let message = r.string()
            return .failed(message: message, io: r.bool())
        }
    }
}

/// Little-endian fields appended to a byte string.
private struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    mutating func ints(_ v: [Int]) {
        int(v.count)
        for x in v { int(x) }
    }
    mutating func string(_ s: String) {
        let u = Array(s.utf8)
        int(u.count)
        bytes.append(contentsOf: u)
    }
    mutating func carry(_ c: CorpusFilter.Carry) {
        bool(c.openDocument)
        int(c.skipDeeperThan ?? -1)
    }
}

/// Reads what `ByteWriter` wrote, in the same order.
private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    mutating func int() -> Int {
        var v: Int64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyBytes(from: bytes[offset..<(offset + 8)]) }
        offset += 8
        return Int(Int64(littleEndian: v))
    }
    mutating func bool() -> Bool {
        defer { offset += 1 }
        return bytes[offset] != 0
    }
    mutating func ints() -> [Int] {
        let n = int()
        var out: [Int] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(int()) }
        return out
    }
    mutating func string() -> String {
        let n = int()
        defer { offset += n }
        return String(decoding: bytes[offset..<(offset + n)], as: UTF8.self)
    }
    mutating func carry() -> CorpusFilter.Carry {
        let open = bool()
        let skip = int()
        return CorpusFilter.Carry(openDocument: open, skipDeeperThan: skip < 0 ? nil : skip)
    }
}
