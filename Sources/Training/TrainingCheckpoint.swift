import Core
import Foundation
import Kernels
import Model
import Selection

/// Training checkpoints: weights, both AdamW moments and the run state in one file.
///
/// Layout: 8 magic bytes `SIFTCKPT`, a little-endian UInt64 header length, the JSON header
/// (`CheckpointState`), then parameters, first and second moments as raw little-endian Float32
/// (each `layout.totalCount` values), then a UInt64 `Checksum64` of every byte before it. Files are
/// written to a temporary name, fsynced, renamed to `step-NNNNNNNN.ckpt` and the directory fsynced,
/// so a crash at any point leaves either the old set of checkpoints or the old set plus a complete new one.
public enum TrainingCheckpoint {
    static let magic: [UInt8] = Array("SIFTCKPT".utf8)

    /// File name of the checkpoint for `step`.
    public static func fileName(step: Int) -> String { String(format: "step-%08d.ckpt", step) }

    /// Writes a checkpoint into `directory` and deletes all but the newest `keep` checkpoints.
    /// `pauseSeconds` > 0 (fault injection only) writes each buffer in 8 pieces with that pause
    /// between them, so a test can kill the writer in the middle of a save.
    /// - Returns: the path written.
    @discardableResult
    public static func save(
        state: CheckpointState, parameters: FloatBuffer, m: FloatBuffer, v: FloatBuffer,
        directory: String, keep: Int, pauseSeconds: Double = 0
    ) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let header = try JSONEncoder().encode(state)
        let final = (directory as NSString).appendingPathComponent(fileName(step: state.step))
        let temp = (directory as NSString).appendingPathComponent(".tmp-\(getpid())-\(fileName(step: state.step))")
        do {
            try DurableFile.write(to: final, temporary: temp) { file in
                var checksum = Checksum64()
                func write(_ p: UnsafeRawPointer, _ n: Int) throws {
                    checksum.update(p, count: n)
                    try file.write(p, count: n)
                }
                var length = UInt64(header.count).littleEndian
                try magic.withUnsafeBytes { try write($0.baseAddress!, 8) }
                try withUnsafeBytes(of: &length) { try write($0.baseAddress!, 8) }
                try header.withUnsafeBytes { try write($0.baseAddress!, header.count) }
                for buffer in [parameters, m, v] {
                    let pieces = pauseSeconds > 0 ? 8 : 1
                    for k in 0..<pieces {
                        let lo = buffer.count * k / pieces, hi = buffer.count * (k + 1) / pieces
                        try write(UnsafeRawPointer(buffer.pointer + lo), (hi - lo) * 4)
                        if pauseSeconds > 0 { Thread.sleep(forTimeInterval: pauseSeconds) }
                    }
                }
                var sum = checksum.value.littleEndian
                try withUnsafeBytes(of: &sum) { try file.write($0.baseAddress!, count: 8) }
            }
        } catch let error as DurableFileError {
            throw CheckpointError.io(path: error.path, reason: error.reason)
        }
        // Temporary files of a writer that crashed mid-save are garbage once a newer save succeeded.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".tmp-") {
            unlink((directory as NSString).appendingPathComponent(name))
        }
        // Older checkpoints go only after the new one is durable.
        let all = list(directory: directory)
        if keep > 0 && all.count > keep {
            for old in all.prefix(all.count - keep) { unlink(old.path) }
            DurableFile.syncDirectory(directory)
        }
        return final
    }

    /// Checkpoint files in `directory`, oldest first, as (step, path).
    public static func list(directory: String) -> [(step: Int, path: String)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("step-"), name.hasSuffix(".ckpt"),
                let step = Int(name.dropFirst(5).dropLast(5))
            else { return nil }
            return (step, (directory as NSString).appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// Reads and verifies a checkpoint.
    /// - Returns: the state and the three buffers (parameters, m, v), each of the configuration's parameter count.
    public static func load(path: String) throws -> (state: CheckpointState, parameters: FloatBuffer, m: FloatBuffer, v: FloatBuffer) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.io(path: path, reason: "cannot read file")
        }
        guard data.prefix(8).elementsEqual(magic.prefix(data.count)) else { throw CheckpointError.notACheckpoint(path: path) }
        guard data.count >= 24 else { throw CheckpointError.truncated(path: path, expected: 24, actual: data.count) }
        return try data.withUnsafeBytes { raw -> (CheckpointState, FloatBuffer, FloatBuffer, FloatBuffer) in
            let base = raw.baseAddress!
            guard Array(raw.prefix(8)) == magic else { throw CheckpointError.notACheckpoint(path: path) }
            // The length is untrusted: read as unsigned and bounded by the file before any slice uses it.
            let rawLength = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            guard rawLength > 0, rawLength <= UInt64(data.count - 16) else {
                throw CheckpointError.truncated(
                    path: path, expected: rawLength > UInt64(Int.max - 16) ? Int.max : 16 + Int(rawLength),
                    actual: data.count)
            }
            let headerLength = Int(rawLength)
            let state: CheckpointState
            do {
                state = try JSONDecoder().decode(CheckpointState.self, from: Data(raw[16..<(16 + headerLength)]))
            } catch {
                throw CheckpointError.badHeader(path: path, reason: "\(error)")
            }
            if let problem = state.config.validationError() { throw CheckpointError.badHeader(path: path, reason: problem) }
            let count = ParameterLayout(config: state.config).totalCount
            let expected = 16 + headerLength + 3 * count * 4 + 8
            guard data.count == expected else { throw CheckpointError.truncated(path: path, expected: expected, actual: data.count) }
            var checksum = Checksum64()
            checksum.update(base, count: expected - 8)
            let stored = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: expected - 8, as: UInt64.self))
            guard stored == checksum.value else { throw CheckpointError.checksumMismatch(path: path) }
            var buffers: [FloatBuffer] = []
            for k in 0..<3 {
                let b = FloatBuffer(count: count)
                memcpy(b.pointer, base + 16 + headerLength + k * count * 4, count * 4)
                buffers.append(b)
            }
            return (state, buffers[0], buffers[1], buffers[2])
        }
    }

    /// The checkpoint a resumed run continues from: the newest in `directory` that verifies. Never starts
    /// over in silence: a missing or empty directory, or one whose every checkpoint is damaged, is an
    /// error unless `startIfNone` (`--resume-or-start`). Damaged files (each named with its damage) are
    /// renamed `NAME.damaged` before the run goes on, so no later save can overwrite them; on an error
    /// nothing is changed.
    public static func resumePoint(directory: String, startIfNone: Bool) throws -> ResumePoint {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let orStart = "pass --resume-or-start to start from step 0 when there is no checkpoint"
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            if startIfNone { return ResumePoint(checkpoint: nil) }
            throw CheckpointError.cannotResume(
                directory: directory, reason: "--checkpoint-dir does not exist (check the path, or \(orStart))")
        }
        guard isDirectory.boolValue else {
            throw CheckpointError.cannotResume(directory: directory, reason: "--checkpoint-dir is a file, not a directory")
        }
        let entries = list(directory: directory)
        var damaged: [(path: String, error: CheckpointError)] = []
        var found: LoadedCheckpoint?
        for entry in entries.reversed() {
            do {
                let c = try load(path: entry.path)
                found = (c.state, c.parameters, c.m, c.v, entry.path)
                break
            } catch let error as CheckpointError where error.isDamage {
                damaged.append((entry.path, error))
            }
        }
        if found == nil && !startIfNone {
            if entries.isEmpty { throw CheckpointError.cannotResume(directory: directory, reason: "it holds no checkpoint (\(orStart))") }
            throw CheckpointError.cannotResume(
                directory: directory,
                reason: "every checkpoint is damaged: "
                    + damaged.map { "\($0.error)" }.joined(separator: "; ")
                    + "; nothing was changed (pass --resume-or-start to move them aside as NAME.damaged and start from step 0)")
        }
        var point = ResumePoint(checkpoint: found)
        for d in damaged {
            let aside = try setAside(d.path)
            point.warnings.append("\(d.error); moved to \(aside)")
        }
        if !damaged.isEmpty { DurableFile.syncDirectory(directory) }
        return point
    }

    /// The checkpoints set aside in `directory` by `setAside` (`step-….ckpt.damaged` and
    /// `step-….ckpt.damaged-K`), as paths sorted by name; nothing else in the folder matches.
    public static func damagedFiles(directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { name in
            guard name.hasPrefix("step-"), let range = name.range(of: ".ckpt.damaged") else { return false }
            let rest = name[range.upperBound...]
            guard let dash = rest.first else { return true }
            return dash == "-" && !rest.dropFirst().isEmpty && rest.dropFirst().allSatisfy { ("0"..."9").contains($0) }
        }.sorted().map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Renames a damaged checkpoint to `NAME.damaged` (`NAME.damaged-2`, … if taken) and returns the new path.
    static func setAside(_ path: String) throws -> String {
        var target = path + ".damaged", k = 1
        while FileManager.default.fileExists(atPath: target) {
            k += 1
            target = path + ".damaged-\(k)"
        }
        guard rename(path, target) == 0 else {
            throw CheckpointError.io(path: path, reason: DurableFile.errnoText("cannot move the damaged file aside"))
        }
        return target
    }

    /// The newest checkpoint in `directory` that verifies; corrupt ones are reported through `warn`
    /// and skipped, so a crash during a save falls back to the previous checkpoint.
    public static func loadNewestValid(directory: String, warn: (String) -> Void) -> LoadedCheckpoint? {
        for entry in list(directory: directory).reversed() {
            do {
                let c = try load(path: entry.path)
                return (c.state, c.parameters, c.m, c.v, entry.path)
            } catch {
                warn("skipping checkpoint: \(error)")
            }
        }
        return nil
    }
}
