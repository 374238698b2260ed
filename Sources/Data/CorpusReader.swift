import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Streams a corpus of UTF-8 text files in a fixed order with bounded memory.
///
/// - Paths may be files or directories (every regular file under them, in `corpusFiles`' order).
/// - Files ending in `.gz` or `.zst` are decompressed as they are read (`CorpusInput`).
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
    /// Total bytes of text read (decompressed; binary files excluded) during the last `read`.
    public private(set) var bytesRead = 0
    /// The file and line of the event being delivered.
    public let position = CorpusPosition()

    /// Resolves `paths` into the file list (`corpusFiles`); throws if a path does not exist.
    public init(paths: [String], warn: @escaping (String) -> Void) throws {
        self.warn = warn
        self.files = try Self.corpusFiles(paths)
    }

    /// The files of `paths`, in reading order: each path in the order given; a file as it is (even a pipe or a
    /// hidden file); a directory replaced by every regular file under it (recursively, following symbolic
    /// links to files but not to directories), skipping hidden entries (names starting with `.`, and all
    /// below a hidden directory), sorted by the bytes of their UTF-8 paths, so the order is the same on
    /// every machine and locale.
    public static func corpusFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                if errno == ENOENT || errno == ENOTDIR { throw DataError.fileNotFound(path: path) }
                throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                files.append(path)
                continue
            }
            var found: [String] = []
            try walk(path, into: &found)
            files.append(contentsOf: found.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        }
        return files
    }

    /// Adds the regular files under directory `dir` (not hidden) to `found`.
    private static func walk(_ dir: String, into found: inout [String]) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: dir)
        } catch {
            throw DataError.unreadable(path: dir, reason: "cannot list directory")
        }
        for name in names where !name.hasPrefix(".") {
            let full = (dir as NSString).appendingPathComponent(name)
            var link = stat(), info = stat()
            guard lstat(full, &link) == 0, stat(full, &info) == 0 else { continue }  // a dangling link
            switch info.st_mode & S_IFMT {
            case S_IFREG: found.append(full)
            case S_IFDIR where (link.st_mode & S_IFMT) == S_IFDIR: try walk(full, into: &found)
            default: continue  // a link to a directory, a pipe, a socket, a device
            }
        }
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
            let range = try Self.readRange(
                file, from: 0, to: nil, startsInDocument: false, endsFile: true,
                buffer: buffer, position: position, body)
            largestLineBuffer = max(largestLineBuffer, range.largestLineBuffer)
            if range.binary {
                warn("warning: \(file): looks binary (NUL byte in the first 8 KiB); skipped")
                skippedBinaryFiles += 1
                continue
            }
            if range.bytes == 0 { warn("warning: \(file): empty file") }
            if range.invalidUTF8 > 0 {
                warn("warning: \(file): replaced \(range.invalidUTF8) invalid UTF-8 sequence(s) with U+FFFD")
            }
            invalidUTF8Sequences += range.invalidUTF8
            bytesRead += range.bytes
        }
    }

    /// What reading one byte range of a file found.
    struct RangeRead {
        /// Bytes read (0 for a binary file).
        var bytes = 0
        /// Invalid UTF-8 sequences replaced.
        var invalidUTF8 = 0
        /// Lines delivered: the number of the range's last line, counted from 1 at its start.
        var lines = 0
        /// The file has a NUL byte in its first 8 KiB (checked only for a range starting at 0); nothing was delivered.
        var binary = false
        var largestLineBuffer = 0
    }

    /// Streams the bytes `start..<end` of `path` (`end` nil: to the end of the file) as events, exactly as
    /// reading the whole file would deliver them, provided `start` is 0 or just after a newline and `end`
    /// (if not the end of the file) just after a newline: reads stay aligned to `readBufferBytes` of the
    /// file, so an overlong line is cut where a whole-file read cuts it. `startsInDocument` says whether
    /// the line before `start` was a text line (a document is open); when `endsFile` is false, the open
    /// document is not ended at `end` (the next range continues it). `position.line` counts from 1 at `start`.
    static func readRange(
        _ path: String, from start: Int, to end: Int?, startsInDocument: Bool, endsFile: Bool,
        buffer: UnsafeMutablePointer<UInt8>, position: CorpusPosition,
        _ body: (CorpusEvent) throws -> Void
    ) throws -> RangeRead {
        let file = try CorpusInput(path: path)
        try file.seek(to: start)
        var result = RangeRead()
        var line: [UInt8] = []
        line.reserveCapacity(4096)
        var inDocument = startsInDocument
        var lineHasContent = false
        var isFirstChunk = start == 0
        var offset = start
        var lineNumber = 1
        position.file = path

        func emit(_ bytes: ArraySlice<UInt8>) throws {
            var ascii = true
            for b in bytes where b >= 0x80 {
                ascii = false
                break
            }
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
                    case .error: result.invalidUTF8 += 1
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
            var want = Self.readBufferBytes - offset % Self.readBufferBytes
            if let end { want = min(want, end - offset) }
            if want <= 0 { break }
            let n = try file.read(into: buffer, count: want)
            if n == 0 { break }
            if isFirstChunk {
                isFirstChunk = false
                if memchr(buffer, 0, min(n, 8192)) != nil {
                    result.binary = true
                    return result
                }
            }
            offset += n
            result.bytes += n
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
                result.largestLineBuffer = max(result.largestLineBuffer, line.capacity)
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
        if inDocument && endsFile { try body(.endOfDocument) }
        result.lines = lineNumber - 1
        return result
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

/// Whether `bytes` hold only ASCII whitespace: a blank line, which ends a document.
@inline(__always)
func isBlank<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
    for b in bytes where !(b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C) { return false }
    return true
}
