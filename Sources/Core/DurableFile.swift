import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Crash-safe file writing: data goes to a temporary file next to the destination, is fsynced, and
/// only then renamed over the destination (and the directory fsynced), so a reader sees either the
/// old file or the complete new one, never a torn write.
public enum DurableFile {
    /// The OS error text for the current `errno`, prefixed with `what`.
    public static func errnoText(_ what: String) -> String {
        "\(what): \(String(cString: strerror(errno)))"
    }

    /// A unique sibling path of `path` for temporary data (same directory, so rename is atomic).
    public static func temporarySibling(of path: String, tag: String) -> String {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        return dir + "/." + url.lastPathComponent + ".\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// An open file descriptor that writes everything it is given.
    public final class Writer {
        public let fd: Int32
        public let path: String

        /// Opens `path` for writing; `exclusive` fails if it exists, otherwise it is truncated.
        /// - Throws: `DurableFileError` when the file cannot be created.
        public init(creating path: String, exclusive: Bool = true) throws {
            self.path = path
            fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0o644)
            if fd < 0 { throw DurableFileError(path: path, reason: DurableFile.errnoText("cannot create")) }
        }
        deinit { close(fd) }

        /// Writes all `count` bytes at `bytes`, retrying on partial writes and EINTR.
        public func write(_ bytes: UnsafeRawPointer, count: Int) throws {
            try DurableFile.writeAll(fd, UnsafeRawBufferPointer(start: bytes, count: count), path: path)
        }

        /// Writes every byte of `data`.
        public func write(_ data: [UInt8]) throws {
            try data.withUnsafeBytes { raw in
                if let base = raw.baseAddress { try write(base, count: raw.count) }
            }
        }

        /// fsyncs the file.
        public func sync() throws {
            if fsync(fd) != 0 { throw DurableFileError(path: path, reason: DurableFile.errnoText("fsync failed")) }
        }
    }

    /// Writes a file durably: `body` fills a temporary sibling (or `temporary`, which must be in the
    /// same directory), which is fsynced and renamed to `path`. On any error the temporary file is
    /// removed and `path` is untouched.
    /// - Throws: `DurableFileError`, or whatever `body` throws.
    public static func write(to path: String, temporary: String? = nil, _ body: (Writer) throws -> Void) throws {
        let temporary = temporary ?? temporarySibling(of: path, tag: "tmp")
        do {
            let writer = try Writer(creating: temporary, exclusive: false)
            try body(writer)
            try writer.sync()
        } catch {
            unlink(temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let reason = errnoText("cannot rename \(temporary) to \(path)")
            unlink(temporary)
            throw DurableFileError(path: path, reason: reason)
        }
        syncDirectory(containing: path)
    }

    /// Atomically replaces `path` with `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try write(to: path) { try $0.write(bytes) }
    }

    /// Creates or truncates `path` in place, writes `bytes` and fsyncs it (for files inside a
    /// staging directory that is itself renamed into place).
    public static func writeAndSync(_ bytes: [UInt8], to path: String) throws {
        let writer = try Writer(creating: path, exclusive: false)
        try writer.write(bytes)
        try writer.sync()
    }

    /// Writes every byte of `raw` to `fd`, retrying short writes and EINTR.
    public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws {
        guard let base = raw.baseAddress else { return }
        var done = 0
        while done < raw.count {
            let n = Glibc.write(fd, base + done, min(raw.count - done, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw DurableFileError(path: path, reason: errnoText("write failed"))
            }
            done += n
        }
    }

    /// Makes a rename inside the directory holding `path` durable (best effort).
    public static func syncDirectory(containing path: String) {
        syncDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    /// fsyncs a directory so a rename inside it is durable. Best effort: some filesystems refuse
    /// fsync on directories, and the data itself is already on disk.
    public static func syncDirectory(_ dir: String) {
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}
