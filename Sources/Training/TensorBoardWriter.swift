import Core
import Foundation

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Writes scalars to a TensorBoard event file (rank 0 only, `sift train --tensorboard DIR`).
///
/// The file is a TFRecord stream: each record is its length (UInt64, little-endian), the masked CRC-32C of
/// those 8 bytes, the data, and the masked CRC-32C of the data (`CRC32C.masked`). Each record's data is a
/// `tensorflow.Event` protobuf, encoded here by hand with the fields of tensorflow/core/util/event.proto and
/// tensorflow/core/framework/summary.proto: `wall_time` (1, double), `step` (2, int64), `file_version` (3,
/// string "brain.Event:2", the first record only) and `summary` (5) holding repeated `Value` (1) of
/// `tag` (1, string) and `simple_value` (2, float). Each run opens a new file,
/// `events.out.tfevents.<seconds>.<host>`, in `DIR` (TensorBoard merges the files of a directory), so a
/// resumed run never rewrites an earlier one's; it opens with a `session_log` (7) `START` at its first step,
/// on which TensorBoard drops the steps from there on that earlier files hold (a crashed run's steps
/// after its last checkpoint), as it does for a restarted TensorFlow job. Every record is written with one `write(2)` from buffers
/// kept across steps, so a step allocates nothing beyond its tags.
public final class TensorBoardWriter {
    /// The prefix TensorBoard recognises event files by.
    public static let filePrefix = "events.out.tfevents."
    /// The file this writer appends to.
    let path: String
    private let descriptor: Int32
    /// The open event's fields before its summary, its summary's values, and the framed record.
    private var head: [UInt8] = []
    private var values: [UInt8] = []
    private var record: [UInt8] = []
    /// The first write that failed (a full disk): later events are dropped and the observer says so once.
    private(set) var failure: String?

    /// Creates `directory` if needed and a new event file in it, named by `wallTime`'s second and the host
    /// (`.1`, `.2`, … appended if a file of that name exists), and writes the file-version record and, for
    /// a run resumed after step `restartStep` (> 0), the restart marker at the step after it.
    init(directory: String, restartStep: Int = 0, wallTime: Double = Date().timeIntervalSince1970) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainingError(message: "--tensorboard \(directory): cannot create the directory (\(error.localizedDescription))")
        }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        let base = (directory as NSString).appendingPathComponent(Self.filePrefix + String(format: "%010d", Int(wallTime)) + ".\(host)")
        var candidate = base, k = 0, fd: Int32 = -1
        while true {
            fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0o644)
            if fd >= 0 || errno != EEXIST { break }
            k += 1
            candidate = base + ".\(k)"
        }
        guard fd >= 0 else {
            throw TrainingError(message: "--tensorboard \(directory): cannot create \(candidate) (\(String(cString: strerror(errno))))")
        }
        path = candidate
        descriptor = fd
        head.reserveCapacity(64)
        values.reserveCapacity(1024)
        record.reserveCapacity(1024)
        begin(step: 0, wallTime: wallTime)
        head.append(3 << 3 | 2)
        Self.appendBytes("brain.Event:2".utf8, to: &head)
        finish()
        if restartStep > 0 {
            // SessionLog { status (1) = START (1) }
            begin(step: restartStep + 1, wallTime: wallTime)
            head += [7 << 3 | 2, 2, 1 << 3 | 0, 1]
            finish()
        }
    }

    deinit { close(descriptor) }

    /// Starts an event at `step`; its scalars follow with `add`, and `finish` writes it.
    func begin(step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        head.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        head.append(1 << 3 | 1)
        withUnsafeBytes(of: wallTime.bitPattern.littleEndian) { head.append(contentsOf: $0) }
        head.append(2 << 3 | 0)
        Self.appendVarint(UInt64(bitPattern: Int64(step)), to: &head)
    }

    /// Adds the scalar `value` (stored as a float) under `tag` to the open event.
    func add(_ tag: String, _ value: Double) {
        let tagLength = tag.utf8.count
        values.append(1 << 3 | 2)
        Self.appendVarint(UInt64(1 + Self.varintSize(UInt64(tagLength)) + tagLength + 1 + 4), to: &values)
        values.append(1 << 3 | 2)
        Self.appendBytes(tag.utf8, to: &values)
        values.append(2 << 3 | 5)
        withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { values.append(contentsOf: $0) }
    }

    /// Frames the open event as a record and writes it.
    func finish() {
        if !values.isEmpty {
            head.append(5 << 3 | 2)
            Self.appendVarint(UInt64(values.count), to: &head)
        }
        let length = head.count + values.count
        record.removeAll(keepingCapacity: true)
        withUnsafeBytes(of: UInt64(length).littleEndian) { record.append(contentsOf: $0) }
        let lengthCRC = record.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0.baseAddress!, count: 8)) }
        withUnsafeBytes(of: lengthCRC.littleEndian) { record.append(contentsOf: $0) }
        record.append(contentsOf: head)
        record.append(contentsOf: values)
        let dataCRC = record.withUnsafeBytes { CRC32C.masked(CRC32C.checksum($0.baseAddress! + 12, count: length)) }
        withUnsafeBytes(of: dataCRC.littleEndian) { record.append(contentsOf: $0) }
        guard failure == nil else { return }
        record.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                #if canImport(Glibc)
                    let n = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                #else
                    let n = Darwin.write(descriptor, raw.baseAddress! + done, raw.count - done)
                #endif
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    failure = "cannot write \(path) (\(n < 0 ? String(cString: strerror(errno)) : "no progress"))"
                    return
                }
                done += n
            }
        }
    }

    private static func appendVarint(_ value: UInt64, to buffer: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }

    private static func varintSize(_ value: UInt64) -> Int {
        var v = value, n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    /// A length-delimited field's length and bytes.
    private static func appendBytes(_ bytes: String.UTF8View, to buffer: inout [UInt8]) {
        appendVarint(UInt64(bytes.count), to: &buffer)
        buffer.append(contentsOf: bytes)
    }
}
