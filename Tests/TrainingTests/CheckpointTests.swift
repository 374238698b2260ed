import Core
import Kernels
import Model
import SiftTestSupport
import Training
import XCTest

/// Checkpoints: bit-exact round trip, and every kind of damage detected without losing older ones.
final class CheckpointTests: XCTestCase {
    let config = BertConfig(vocabSize: 13, hiddenSize: 4, numLayers: 2, numHeads: 2, intermediateSize: 8, maxPositions: 8)

    func state(step: Int) -> CheckpointState {
        CheckpointState(
            config: config, step: step, seed: 7, samplesScored: step * 10, samplesBackpropagated: step * 5,
            elapsedSeconds: Double(step), runFingerprint: "test", vocabHash: "abc")
    }

    func buffers(_ salt: Int) -> (FloatBuffer, FloatBuffer, FloatBuffer) {
        let n = ParameterLayout(config: config).totalCount
        return (
            FloatBuffer((0..<n).map { Float($0 * salt) * 0.001 }),
            FloatBuffer((0..<n).map { Float(-$0) * 1e-7 - Float(salt) }),
            FloatBuffer((0..<n).map { Float($0 % 7) + .ulpOfOne })
        )
    }

    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "sift-ckpt-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func testRoundTripIsBitExact() throws {
        let dir = tempDir()
        let (p, m, v) = buffers(3)
        let path = try TrainingCheckpoint.save(state: state(step: 5), parameters: p, m: m, v: v, directory: dir, keep: 3)
        let loaded = try TrainingCheckpoint.load(path: path)
        XCTAssertEqual(loaded.state, state(step: 5))
        assertBitIdentical(loaded.parameters.array, p.array)
        assertBitIdentical(loaded.m.array, m.array)
        assertBitIdentical(loaded.v.array, v.array)
    }

    func testKeepsOnlyNewestAndSkipsDamagedOnes() throws {
        let dir = tempDir()
        for step in 1...4 {
            let (p, m, v) = buffers(step)
            try TrainingCheckpoint.save(state: state(step: step), parameters: p, m: m, v: v, directory: dir, keep: 2)
        }
        XCTAssertEqual(TrainingCheckpoint.list(directory: dir).map(\.step), [3, 4])
        // Corrupt the newest (one flipped byte in the weights): loading falls back to step 3.
        let newest = TrainingCheckpoint.list(directory: dir).last!.path
        var bytes = [UInt8](FileManager.default.contents(atPath: newest)!)
        bytes[bytes.count / 2] ^= 0x10
        try Data(bytes).write(to: URL(fileURLWithPath: newest))
        XCTAssertThrowsError(try TrainingCheckpoint.load(path: newest)) { error in
            XCTAssertTrue("\(error)".contains("checksum"), "\(error)")
        }
        var warnings: [String] = []
        let fallback = TrainingCheckpoint.loadNewestValid(directory: dir) { warnings.append($0) }
        XCTAssertEqual(fallback?.state.step, 3)
        XCTAssertEqual(warnings.count, 1)
    }

    func testTruncatedAndForeignFilesAreRejected() throws {
        let dir = tempDir()
        let (p, m, v) = buffers(1)
        let path = try TrainingCheckpoint.save(state: state(step: 1), parameters: p, m: m, v: v, directory: dir, keep: 3)
        let full = FileManager.default.contents(atPath: path)!
        for cut in [0, 7, 20, full.count / 3, full.count - 1] {
            try full.prefix(cut).write(to: URL(fileURLWithPath: path))
            // Below the 24-byte preamble the expected size is the preamble's; past it, the whole file's.
            let expected = cut < 24 ? 24 : full.count
            XCTAssertThrowsError(try TrainingCheckpoint.load(path: path), "cut at \(cut)") {
                XCTAssertEqual("\($0)", "checkpoint \(path) is truncated: \(cut) bytes, expected \(expected)")
            }
        }
        try Data("not a checkpoint at all, just text".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try TrainingCheckpoint.load(path: path)) { XCTAssertTrue("\($0)".contains("not a sift checkpoint")) }
    }
}

/// The checksum depends on the bytes only, not on how they were split across updates.
final class ChecksumTests: XCTestCase {
    func testSplitIndependenceAndSensitivity() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var whole = Checksum64()
        whole.update(bytes)
        for cut in [1, 3, 7, 8, 9, 500, 999] {
            var split = Checksum64()
            split.update(Array(bytes[..<cut]))
            split.update(Array(bytes[cut...]))
            XCTAssertEqual(split.value, whole.value, "split at \(cut)")
        }
        var shorter = Checksum64()
        shorter.update(Array(bytes.dropLast()))
        XCTAssertNotEqual(shorter.value, whole.value)
        var flipped = bytes
        flipped[123] ^= 1
        var other = Checksum64()
        other.update(flipped)
        XCTAssertNotEqual(other.value, whole.value)
    }
}

/// A writer that crashes mid-save or runs out of disk never costs the previous checkpoint.
final class CheckpointDurabilityTests: XCTestCase {
    let config = BertConfig(vocabSize: 13, hiddenSize: 4, numLayers: 2, numHeads: 2, intermediateSize: 8, maxPositions: 8)

    func state(_ step: Int) -> CheckpointState {
        CheckpointState(
            config: config, step: step, seed: 1, samplesScored: 0, samplesBackpropagated: 0,
            elapsedSeconds: 0, runFingerprint: "t", vocabHash: "v")
    }

    func buffers() -> (FloatBuffer, FloatBuffer, FloatBuffer) {
        let n = ParameterLayout(config: config).totalCount
        return (FloatBuffer((0..<n).map { Float($0) }), FloatBuffer(count: n), FloatBuffer(count: n))
    }

    func testCrashAtAnyPointOfASaveLeavesTheLastGoodCheckpoint() throws {
        let dir = NSTemporaryDirectory() + "sift-crash-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (p, m, v) = buffers()
        let good = try TrainingCheckpoint.save(state: state(1), parameters: p, m: m, v: v, directory: dir, keep: 5)
        let full = FileManager.default.contents(atPath: good)!
        // A crash before the rename leaves a partial temporary file; one during a copy by hand, a
        // short final file. Every cut point must fall back to step 1.
        for cut in stride(from: 0, to: full.count, by: max(1, full.count / 17)) {
            try full.prefix(cut).write(to: URL(fileURLWithPath: dir + "/.tmp-999-step-00000002.ckpt"))
            try full.prefix(cut).write(to: URL(fileURLWithPath: dir + "/step-00000003.ckpt"))
            var warnings: [String] = []
            let loaded = TrainingCheckpoint.loadNewestValid(directory: dir) { warnings.append($0) }
            XCTAssertEqual(loaded?.state.step, 1, "cut at \(cut)")
            XCTAssertEqual(warnings.count, 1)
        }
        // The next successful save clears the crashed writer's temporary file.
        try TrainingCheckpoint.save(state: state(4), parameters: p, m: m, v: v, directory: dir, keep: 5)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        XCTAssertFalse(names.contains { $0.hasPrefix(".tmp-") }, "\(names)")
    }

    func testFullDiskGivesAClearErrorAndKeepsOlderCheckpoints() throws {
        let dir = NSTemporaryDirectory() + "sift-full-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=256k", "tmpfs", dir]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw XCTSkip("cannot mount a tmpfs here (not root?)") }
        defer {
            let u = Process()
            u.executableURL = URL(fileURLWithPath: "/bin/umount")
            u.arguments = [dir]
            try? u.run()
            u.waitUntilExit()
        }
        let (p, m, v) = buffers()
        let first = try TrainingCheckpoint.save(state: state(1), parameters: p, m: m, v: v, directory: dir, keep: 3)
        let bytes = FileManager.default.contents(atPath: first)
        // Fill the rest of the filesystem.
        let filler = FileHandle(
            forWritingAtPath: {
                _ = FileManager.default.createFile(atPath: dir + "/filler", contents: nil)
                return dir + "/filler"
            }())!
        let chunk = Data(count: 4096)
        while (try? filler.write(contentsOf: chunk)) != nil {}
        try? filler.close()
        XCTAssertThrowsError(try TrainingCheckpoint.save(state: state(2), parameters: p, m: m, v: v, directory: dir, keep: 3)) { error in
            XCTAssertTrue("\(error)".contains("No space left"), "\(error)")
        }
        XCTAssertEqual(TrainingCheckpoint.list(directory: dir).map(\.step), [1])
        XCTAssertEqual(FileManager.default.contents(atPath: first), bytes)
        XCTAssertNoThrow(try TrainingCheckpoint.load(path: first))
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.hasPrefix(".tmp-") })
    }
}
