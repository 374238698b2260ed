import CZlib
import CZstd
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The text bytes of one corpus file, streamed: read as they are, or decompressed through zlib or libzstd
/// with a fixed 256 KiB input buffer (a compressed file is never whole in memory).
///
/// `read` of a compressed file fills the buffer to the count asked unless the text ends, as reading a
/// regular file does, so the reader cuts overlong lines at the same places in a file and in its
/// compressed copy. Truncated or corrupt compressed data throws `DataError.corruptInput` naming the file.
final class CorpusInput {
    static let compressedBufferBytes = 256 << 10

    let path: String
    let compression: CorpusCompression
    private let fd: Int32
    private var input: UnsafeMutablePointer<UInt8>? = nil
    private var inputEnded = false
    private var compressedBytes = 0
    // gzip: the stream (at a fixed address: zlib checks it), whether a member is open, whether one just ended.
    private var gzip: UnsafeMutablePointer<z_stream>? = nil
    private var memberOpen = false
    private var memberEnded = false
    // zstd: the stream, its input window, and whether a frame is open (not yet complete and flushed).
    private var zstd: OpaquePointer? = nil
    private var zstdInput = (size: 0, pos: 0)
    private var frameOpen = false

    /// Opens `path`; throws `DataError.unreadable` when it cannot be opened.
    init(path: String) throws {
        self.path = path
        compression = CorpusCompression(path: path)
        fd = open(path, O_RDONLY)
        if fd < 0 { throw DataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        switch compression {
        case .none:
            return
        case .gzip:
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            guard sift_inflate_init_gzip(stream) == Z_OK else {
                stream.deallocate()
                close(fd)
                throw DataError.io(path: path, reason: "zlib could not start (out of memory)")
            }
            gzip = stream
        case .zstd:
            guard let stream = ZSTD_createDStream() else {
                close(fd)
                throw DataError.io(path: path, reason: "libzstd could not start (out of memory)")
            }
            zstd = stream
        }
        input = UnsafeMutablePointer<UInt8>.allocate(capacity: Self.compressedBufferBytes)
    }

    deinit {
        if let gzip {
            inflateEnd(gzip)
            gzip.deallocate()
        }
        if let zstd { ZSTD_freeDStream(zstd) }
        input?.deallocate()
        close(fd)
    }

    /// Moves to byte `offset` of a file read as it is (compressed files are read from their start only).
    func seek(to offset: Int) throws {
        guard offset > 0 else { return }
        guard compression == .none else {
            throw DataError.invalidArgument("\(path): a compressed file cannot be read from byte \(offset)")
        }
        if lseek(fd, off_t(offset), SEEK_SET) < 0 {
            throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// Reads up to `count` bytes of text into `buffer`; 0 at the end. A compressed file fills `count` unless it ends.
    func read(into buffer: UnsafeMutablePointer<UInt8>, count: Int) throws -> Int {
        switch compression {
        case .none: return try readRaw(into: buffer, count: count)
        case .gzip: return try readGzip(into: buffer, count: count)
        case .zstd: return try readZstd(into: buffer, count: count)
        }
    }

    private func readRaw(into buffer: UnsafeMutablePointer<UInt8>, count: Int) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n >= 0 { return n }
            if errno != EINTR { throw DataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        }
    }

    /// Refills the compressed input buffer; returns the bytes read (0 at the file's end).
    private func refill() throws -> Int {
        let n = try readRaw(into: input!, count: Self.compressedBufferBytes)
        if n == 0 { inputEnded = true }
        compressedBytes += n
        return n
    }

    private func corrupt(_ reason: String) -> DataError {
        DataError.corruptInput(path: path, reason: reason)
    }

    private func readGzip(into buffer: UnsafeMutablePointer<UInt8>, count: Int) throws -> Int {
        let stream = gzip!
        var filled = 0
        while filled < count {
            if stream.pointee.avail_in == 0 && !inputEnded {
                let n = try refill()
                stream.pointee.next_in = input
                stream.pointee.avail_in = uInt(n)
            }
            if stream.pointee.avail_in == 0 && inputEnded {
                if memberOpen {
                    throw corrupt(
                        "truncated gzip data: the file ends inside a compressed member, "
                            + "after \(compressedBytes) compressed bytes")
                }
                break
            }
            if memberEnded {
                // Another member follows (concatenated gzip files, as `cat a.gz b.gz` makes).
                inflateReset(stream)
                memberEnded = false
            }
            stream.pointee.next_out = buffer + filled
            stream.pointee.avail_out = uInt(count - filled)
            let status = inflate(stream, Z_NO_FLUSH)
            filled = count - Int(stream.pointee.avail_out)
            switch status {
            case Z_STREAM_END:
                memberOpen = false
                memberEnded = true
            case Z_OK, Z_BUF_ERROR:
                memberOpen = true
            case Z_MEM_ERROR:
                throw DataError.io(path: path, reason: "zlib ran out of memory")
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                throw corrupt("not valid gzip data (\(message)) within its first \(compressedBytes) bytes")
            }
        }
        return filled
    }

    private func readZstd(into buffer: UnsafeMutablePointer<UInt8>, count: Int) throws -> Int {
        let stream = zstd!
        var filled = 0
        while filled < count {
            if zstdInput.pos == zstdInput.size && !inputEnded {
                zstdInput = (try refill(), 0)
            }
            let ended = zstdInput.pos == zstdInput.size && inputEnded
            if ended && !frameOpen { break }
            var source = ZSTD_inBuffer(src: input, size: zstdInput.size, pos: zstdInput.pos)
            var target = ZSTD_outBuffer(dst: buffer + filled, size: count - filled, pos: 0)
            let hint = ZSTD_decompressStream(stream, &target, &source)
            if ZSTD_isError(hint) != 0 {
                let message = String(cString: ZSTD_getErrorName(hint))
                throw corrupt("not valid zstd data (\(message)) within its first \(compressedBytes) bytes")
            }
            zstdInput.pos = source.pos
            filled += target.pos
            frameOpen = hint != 0
            if ended && target.pos == 0 && frameOpen {
                throw corrupt("truncated zstd data: the file ends inside a frame, after \(compressedBytes) compressed bytes")
            }
        }
        return filled
    }
}
