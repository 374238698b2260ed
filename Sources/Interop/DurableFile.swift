#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Crash-safe file writing: data goes to a temporary file next to the destination, is fsynced, and
/// only then renamed over the destination, so a reader sees either the old file or the complete
/// new one, never a torn write.
enum DurableFile {
    /// The OS error text for the current `errno`.
    static func errnoText(_ what: String) -> String {
        "\(what): \(String(cString: strerror(errno)))"
    }

    /// A unique sibling path of `path` for temporary data (same directory, so rename is atomic).
    static func temporarySibling(of path: String, tag: String) -> String {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        return dir + "/." + name + ".\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// An open file descriptor that writes everything it is given.
    final class Writer {
        let fd: Int32
        let path: String
        init(creating path: String) throws {
            self.path = path
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd < 0 { throw SafetensorsError.io(path: path, reason: DurableFile.errnoText("cannot create")) }
        }
        deinit { close(fd) }

        /// Writes all `count` bytes at `bytes`, retrying on partial writes and EINTR.
        func write(_ bytes: UnsafeRawPointer, count: Int) throws {
            var done = 0
            while done < count {
                let n = Glibc.write(fd, bytes + done, min(count - done, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SafetensorsError.io(path: path, reason: DurableFile.errnoText("write failed"))
                }
                done += n
            }
        }

        func write(_ data: [UInt8]) throws {
            try data.withUnsafeBytes { raw in
                if let base = raw.baseAddress { try write(base, count: raw.count) }
            }
        }

        func sync() throws {
            if fsync(fd) != 0 { throw SafetensorsError.io(path: path, reason: DurableFile.errnoText("fsync failed")) }
        }
    }

    /// Writes a file durably: `body` fills a temporary sibling, which is fsynced and renamed to `path`.
    /// On any error the temporary file is removed and `path` is untouched.
    static func write(to path: String, _ body: (Writer) throws -> Void) throws {
        let temporary = temporarySibling(of: path, tag: "tmp")
        do {
            let writer = try Writer(creating: temporary)
            try body(writer)
            try writer.sync()
        } catch {
            unlink(temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let reason = errnoText("cannot rename \(temporary) to \(path)")
            unlink(temporary)
            throw SafetensorsError.io(path: path, reason: reason)
        }
        syncDirectory(containing: path)
    }

    /// Makes a rename inside the directory durable. Best effort: some filesystems refuse fsync on
    /// directories, and the data itself is already on disk.
    static func syncDirectory(containing path: String) {
        syncDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }
}
