import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One item of a streamed corpus.
public enum CorpusEvent {
    /// A piece of text inside the current document: a whole line, or a part of an overlong
    /// line cut at whitespace (so a multi-GB line never has to sit in memory).
    case text(String)
    /// The current document ended (blank line or end of file after at least one text line).
    case endOfDocument
}

/// Where a corpus reader is: the file and 1-based line of the event it is delivering. A reference, so a
/// caller can read it inside `CorpusReader.read`'s callback (e.g. to name the line of a broken record).
public final class CorpusPosition: @unchecked Sendable {
    public internal(set) var file = ""
    public internal(set) var line = 0
    public init() {}
}

/// Streams a corpus of UTF-8 text files in a fixed order with bounded memory.
///
/// - Paths may be files or directories (walked recursively; files sorted by path).
/// - Documents are maximal runs of non-blank lines; a blank line holds only ASCII whitespace.
///   A file boundary also ends a document.
/// - Files with a NUL byte in their first 8 KiB are treated as binary and skipped with a warning.
/// - Invalid UTF-8 sequences are replaced with U+FFFD and counted (one warning per file).
public struct CorpusReader {
    /// Lines longer than this many bytes are emitted in whitespace-cut parts.
    public static let maxPieceBytes = 1 << 20
    static let readBufferBytes = 1 << 20

    /// The corpus files in reading order.
    public let files: [String]
    /// Where warnings go (one line each, no trailing newline).
    public var warn: (String) -> Void
    /// Invalid UTF-8 sequences replaced during the last `read`.
    public private(set) var invalidUTF8Sequences = 0
    /// Files skipped as binary during the last `read`.
    public private(set) var skippedBinaryFiles = 0
    /// Largest capacity, in bytes, the line buffer reached during the last `read`: the reader's memory
    /// apart from its fixed 1 MiB read buffer. Bounded by about 2 × (maxPieceBytes + 1 MiB) whatever
    /// the longest line, because overlong lines are cut into pieces.
    public private(set) var largestLineBuffer = 0
    /// Total bytes of the files read (binary files excluded) during the last `read`.
    public private(set) var bytesRead = 0
    /// The file and line of the event being delivered.
    public let position = CorpusPosition()

    /// Resolves `paths` into a sorted file list; throws if a path does not exist.
    public init(paths: [String], warn: @escaping (String) -> Void) throws {
        self.warn = warn
        var files: [String] = []
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw DataError.fileNotFound(path: path) }
            if isDir.boolValue {
                guard let walker = fm.enumerator(atPath: path) else {
                    throw DataError.unreadable(path: path, reason: "cannot list directory")
                }
                var found: [String] = []
                while let rel = walker.nextObject() as? String {
                    let full = (path as NSString).appendingPathComponent(rel)
                    var sub: ObjCBool = false
                    if fm.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue { found.append(full) }
                }
                files.append(contentsOf: found.sorted())
            } else {
                files.append(path)
            }
        }
        self.files = files
    }

    /// Streams every file, calling `body` per event. Warnings are emitted through `warn`.
    public mutating func read(_ body: (CorpusEvent) throws -> Void) throws {
        invalidUTF8Sequences = 0
        skippedBinaryFiles = 0
        bytesRead = 0
        largestLineBuffer = 0
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.readBufferBytes)
        defer { buffer.deallocate() }
        for file in files {
            try readFile(file, buffer: buffer, body)
        }
    }

    private mutating func readFile(_ path: String, buffer: UnsafeMutablePointer<UInt8>,
                                   _ body: (CorpusEvent) throws -> Void) throws {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw DataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var line: [UInt8] = []
        line.reserveCapacity(4096)
        var inDocument = false
        var lineHasContent = false
        var isFirstChunk = true
        var fileBytes = 0
        var fileInvalid = 0
        var lineNumber = 1
        position.file = path

        func emit(_ bytes: ArraySlice<UInt8>) throws {
            var ascii = true
            for b in bytes where b >= 0x80 { ascii = false; break }
            let text: String
            if ascii {
                text = String(decoding: bytes, as: UTF8.self)
            } else if let valid = String(validating: bytes, as: UTF8.self) {
                text = valid
            } else {
                var it = bytes.makeIterator()
                var decoder = UTF8()
                loop: while true {
                    switch decoder.decode(&it) {
                    case .scalarValue: continue
                    case .emptyInput: break loop
                    case .error: fileInvalid += 1
                    }
                }
                text = String(decoding: bytes, as: UTF8.self)
            }
            inDocument = true
            position.line = lineNumber
            try body(.text(text))
        }

        func endLine() throws {
            if lineHasContent || !isBlank(line) {
                try emit(line[...])
            } else if !lineHasContent && inDocument {
                inDocument = false
                try body(.endOfDocument)
            }
            line.removeAll(keepingCapacity: true)
            lineHasContent = false
            lineNumber += 1
        }

        while true {
            let n = Glibc.read(fd, buffer, Self.readBufferBytes)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            if isFirstChunk {
                isFirstChunk = false
                if memchr(buffer, 0, min(n, 8192)) != nil {
                    warn("warning: \(path): looks binary (NUL byte in the first 8 KiB); skipped")
                    skippedBinaryFiles += 1
                    return
                }
            }
            fileBytes += n
            var start = 0
            while start < n {
                if let nl = memchr(buffer + start, 0x0A, n - start) {
                    let end = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                    line.append(contentsOf: UnsafeBufferPointer(start: buffer + start, count: end - start))
                    try endLine()
                    start = end + 1
                } else {
                    line.append(contentsOf: UnsafeBufferPointer(start: buffer + start, count: n - start))
                    start = n
                }
                largestLineBuffer = max(largestLineBuffer, line.capacity)
                if line.count > Self.maxPieceBytes {
                    let cut = Self.cutPoint(line)
                    if !isBlank(line[..<cut]) {
                        try emit(line[..<cut])
                        lineHasContent = true
                    }
                    line.removeFirst(cut)
                }
            }
        }
        if !line.isEmpty { try endLine() }
        if inDocument { try body(.endOfDocument) }
        if fileBytes == 0 { warn("warning: \(path): empty file") }
        if fileInvalid > 0 {
            warn("warning: \(path): replaced \(fileInvalid) invalid UTF-8 sequence(s) with U+FFFD")
        }
        invalidUTF8Sequences += fileInvalid
        bytesRead += fileBytes
    }

    /// Where to cut an overlong line: after its last ASCII space or tab, else at the last
    /// UTF-8 scalar boundary (a >1 MiB word is [UNK] either way).
    static func cutPoint(_ line: [UInt8]) -> Int {
        var i = line.count - 1
        while i > 0 {
            if line[i] == 0x20 || line[i] == 0x09 { return i + 1 }
            i -= 1
        }
        var j = line.count
        while j > 1 && (line[j - 1] & 0xC0) == 0x80 { j -= 1 }
        // j-1 is a lead byte (or ASCII); cut before it so the scalar stays whole.
        return max(1, j - 1)
    }
}

@inline(__always)
private func isBlank<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
    for b in bytes where !(b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C) { return false }
    return true
}
