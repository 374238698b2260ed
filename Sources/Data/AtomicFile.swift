import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Crash-safe file output: write to a temporary name in the same directory, fsync, then
/// rename over the destination, so readers only ever see the old or the complete new file.
public enum AtomicFile {
    /// Atomically replaces `path` with `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let temp = (dir as NSString).appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try writeAndSync(bytes, to: temp)
        if rename(temp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temp)
            throw DataError.io(path: path, reason: "rename failed: \(reason)")
        }
        syncDirectory(dir)
    }

    /// Creates/truncates `path`, writes `bytes` and fsyncs it.
    public static func writeAndSync(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw DataError.io(path: path, reason: "cannot create: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try bytes.withUnsafeBytes { raw in try writeAll(fd, raw, path: path) }
        if fsync(fd) != 0 { throw DataError.io(path: path, reason: "fsync failed: \(String(cString: strerror(errno)))") }
    }

    /// Writes every byte of `raw` to `fd`, retrying short writes.
    public static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// fsyncs a directory so a rename inside it is durable (best effort).
    public static func syncDirectory(_ dir: String) {
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}
