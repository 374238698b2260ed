import Foundation
import Interop
import Kernels
import Model
import XCTest

/// A fresh empty directory under the system temp directory, removed by the caller's teardown.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "interop-tests-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Raw safetensors bytes assembled by hand: little-endian u64 length, header text, data bytes.
func rawSafetensors(header: String, data: [UInt8]) -> Data {
    let h = Array(header.utf8)
    var bytes: [UInt8] = []
    var n = UInt64(h.count)
    for _ in 0..<8 {
        bytes.append(UInt8(n & 0xFF))
        n >>= 8
    }
    return Data(bytes + h + data)
}

/// Little-endian bytes of 16-bit patterns.
func bytes16(_ values: [UInt16]) -> [UInt8] { values.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

/// Little-endian bytes of Float32 values.
func bytes32(_ values: [Float]) -> [UInt8] {
    values.flatMap { v -> [UInt8] in
        let b = v.bitPattern
        return (0..<4).map { UInt8((b >> (8 * $0)) & 0xFF) }
    }
}

/// A small BERT config for tests.
let smallConfig = BertConfig(
    vocabSize: 23, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 12,
    maxPositions: 10, typeVocabSize: 2)

/// A parameter buffer filled with deterministic pseudo-random values (xorshift, test-local).
func randomParameters(_ layout: ParameterLayout, seed: UInt64 = 0x1234_5678) -> FloatBuffer {
    let buffer = FloatBuffer(count: layout.totalCount)
    var state = seed | 1
    for i in 0..<layout.totalCount {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        buffer[i] = Float(Int64(bitPattern: state % 2_000_001) - 1_000_000) * 1e-6
    }
    return buffer
}

/// Writes `names`→tensor data of the layout (renamed via `rename`, nil = omit) as model.safetensors
/// in `dir`, plus a config.json for `config`.
func writeCheckpoint(
    dir: String, config: BertConfig, parameters: FloatBuffer,
    extra: [(String, [Int], [Float])] = [],
    rename: (String) -> String? = { $0 }
) throws {
    let layout = ParameterLayout(config: config)
    var tensors: [SafetensorsWriter.Tensor] = []
    for t in layout.tensors {
        guard let name = rename(t.name) else { continue }
        tensors.append(.init(name: name, shape: t.shape, data: UnsafePointer(parameters.pointer + t.offset), count: t.count))
    }
    // Extra tensors must outlive the write; keep them in FloatBuffers.
    let extraBuffers = extra.map { FloatBuffer($0.2) }
    for (i, e) in extra.enumerated() {
        tensors.append(.init(name: e.0, shape: e.1, data: UnsafePointer(extraBuffers[i].pointer), count: e.2.count))
    }
    try SafetensorsWriter.write(tensors, to: dir + "/model.safetensors")
    try HuggingFaceConfig.json(for: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
    withExtendedLifetime(extraBuffers) {}
}

/// Asserts that `body` throws an error whose description contains all `fragments`.
func assertThrows<T>(
    _ body: @autoclosure () throws -> T, containing fragments: [String],
    file: StaticString = #filePath, line: UInt = #line
) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch {
        let text = "\(error)"
        for f in fragments where !text.contains(f) {
            XCTFail("error '\(text)' does not contain '\(f)'", file: file, line: line)
        }
        XCTAssertFalse(text.contains("\n"), "error must be one line: \(text)", file: file, line: line)
    }
}
