import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The corpus cut into chunks in a fixed order that depends only on the corpus (its files, their
/// bytes and `chunkBytes`), never on the number of threads or ranks: tokenizing the chunks in any
/// order and writing them in chunk order gives the same dataset as one reader going through the
/// corpus from start to end.
///
/// Files are read in `CorpusReader`'s order. A regular file larger than `chunkBytes` in the `text` or
/// `jsonl` format is cut into byte ranges of about `chunkBytes`, each ending just after a newline (a
/// document may span ranges: the writer joins them). reStructuredText files are never cut (markup
/// state such as a comment block runs across blank lines), nor are binary files, nor files that are not
/// regular (a pipe), nor compressed files (`.gz`, `.zst`: a byte range of compressed data cannot be
/// decompressed alone), which are one chunk each. A line longer than `chunkBytes` is never cut by the plan.
public struct CorpusPlan: Codable, Equatable, Sendable {
    /// Target bytes per chunk.
    public static let defaultChunkBytes = 4 << 20
    /// Bytes read ahead of a cut target while looking for the line boundary.
    static let scanBytes = 64 << 10

    public var files: [String]
    public var format: CorpusFormat
    /// The JSON Lines field holding a record's text.
    public var textField: String
    public var chunks: [CorpusChunk]
    /// Sum of the files' sizes when planned (for progress and rates).
    public var totalBytes: Int

    /// Plans `paths` (files or directories, as `CorpusReader` resolves them).
    public init(
        paths: [String], format: CorpusFormat?, textField: String = CorpusFilter.defaultTextField,
        chunkBytes: Int = CorpusPlan.defaultChunkBytes
    ) throws {
        let files = try CorpusReader.corpusFiles(paths)
        let format = format ?? CorpusFormat.detect(files: files)
        self.files = files
        self.format = format
        self.textField = textField
        self.chunks = []
        self.totalBytes = 0
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.scanBytes)
        defer { buffer.deallocate() }
        for (index, path) in files.enumerated() {
            var info = stat()
            let regular = stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
            let size = regular ? Int(info.st_size) : 0
            totalBytes += size
            let cuts =
                format != .rst && size > chunkBytes && CorpusCompression(path: path) == .none
                ? try Self.cutPoints(path, size: size, chunkBytes: chunkBytes, buffer: buffer) : []
            var start = 0, startsInDocument = false
            for cut in cuts {
                chunks.append(
                    CorpusChunk(
                        file: index, start: start, end: cut.offset, startsInDocument: startsInDocument,
                        firstOfFile: start == 0, lastOfFile: false, size: cut.offset - start))
                start = cut.offset
                startsInDocument = cut.afterText
            }
            chunks.append(
                CorpusChunk(
                    file: index, start: start, end: nil, startsInDocument: startsInDocument,
                    firstOfFile: start == 0, lastOfFile: true, size: max(0, size - start)))
        }
    }

    /// The filter carry a chunk is tokenized from when its predecessor is not at hand: a fresh one at a
    /// file's start, an open document when a text chunk continues one. The writer checks it against the
    /// carry the previous chunk actually ended with and tokenizes the chunk again in the rare case they differ.
    public func assumedCarry(_ chunk: CorpusChunk) -> CorpusFilter.Carry {
        CorpusFilter.Carry(openDocument: format == .text && chunk.startsInDocument, skipDeeperThan: nil)
    }

    /// Offsets just after a newline, about every `chunkBytes`, with whether the line they end held
    /// text. A file with a NUL byte in its first 8 KiB (binary, skipped whole) gets none.
    static func cutPoints(
        _ path: String, size: Int, chunkBytes: Int,
        buffer: UnsafeMutablePointer<UInt8>
    ) throws -> [(offset: Int, afterText: Bool)] {
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw DataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        func readAt(_ offset: Int, _ count: Int) throws -> Int {
            while true {
                let n = pread(fd, buffer, count, off_t(offset))
                if n >= 0 { return n }
                if errno != EINTR { throw DataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            }
        }
        let head = try readAt(0, min(8192, size))
        if memchr(buffer, 0, head) != nil { return [] }
        var cuts: [(offset: Int, afterText: Bool)] = []
        var target = chunkBytes
        while target < size {
            // The first newline at or after target ends a partial line; the whole line after it decides.
            var offset = target, firstNewline: Int? = nil
            var lineText = false
            var found: (offset: Int, afterText: Bool)? = nil
            let limit = min(size, target + chunkBytes)
            scan: while offset < limit {
                let n = try readAt(offset, min(Self.scanBytes, limit - offset))
                if n == 0 { break }
                for i in 0..<n {
                    let b = buffer[i]
                    if b == 0x0A {
                        if firstNewline == nil {
                            firstNewline = offset + i
                            continue
                        }
                        found = (offset + i + 1, lineText)
                        break scan
                    }
                    if firstNewline != nil && !(b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0B || b == 0x0C) {
                        lineText = true
                    }
                }
                offset += n
            }
            if let found, found.offset < size {
                cuts.append(found)
                target = found.offset + chunkBytes
                continue
            }
            target += chunkBytes
        }
        return cuts
    }
}
