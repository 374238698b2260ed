import Foundation
import Interop
import Kernels
import Model
import SiftTestSupport
import XCTest

/// Seeded mutation fuzzers for the HuggingFace-side parsers (docs/RELIABILITY.md, "Fuzzed parsers"):
/// safetensors header and tensor table, config.json, and a whole model directory. Every case must end in
/// a thrown error or a valid result — never a trap, a hang, or an allocation sized from an untrusted
/// number (a config.json claiming a huge model must be refused before its parameters are allocated).
final class InteropParserFuzzTests: XCTestCase {
    static let safetensorsCases = 3000, configCases = 3000, directoryCases = 600

    static let safetensors: [UInt8] = Array(
        rawSafetensors(
            header:
                #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"F16","shape":[4],"data_offsets":[24,32]},"c":{"dtype":"BF16","shape":[1,2],"data_offsets":[32,36]},"d":{"dtype":"F32","shape":[0],"data_offsets":[36,36]}}"#,
            data: bytes32([1, -2, 3.5, 0, 1e-3, 7]) + bytes16([0x3C00, 0xC000, 0x0001, 0x7BFF]) + bytes16([0x3F80, 0xBF80])))

    func testSafetensorsFuzz() throws {
        let clean = try SafetensorsFile(bytes: Data(Self.safetensors), path: "fuzz.safetensors")
        XCTAssertEqual(try clean.floats("a"), [1, -2, 3.5, 0, 1e-3, 7])
        var m = Mutator(seed: 21)
        let (accepted, refused) = m.run(
            Self.safetensors, cases: Self.safetensorsCases, naming: "fuzz.safetensors", problem: { XCTFail($0) }
        ) {
            let f = try SafetensorsFile(bytes: Data($0), path: "fuzz.safetensors")
            for name in f.names { _ = try? f.floats(name) }
        }
        XCTAssertGreaterThan(accepted, 10)
        XCTAssertGreaterThan(refused, 1000)
    }

    func testConfigFuzz() throws {
        let valid = [UInt8](try HuggingFaceConfig.json(for: smallConfig))
        XCTAssertEqual(try HuggingFaceConfig.parse(Data(valid), path: "config.json").config, smallConfig)
        var m = Mutator(seed: 22)
        let (accepted, refused) = m.run(valid, cases: Self.configCases, naming: "fuzz/config.json", problem: { XCTFail($0) }) {
            let (config, _) = try HuggingFaceConfig.parse(Data($0), path: "fuzz/config.json")
            XCTAssertNil(config.validationError())
            // What every loader computes next from it: the parameter layout.
            XCTAssertGreaterThan(ParameterLayout(config: config).totalCount, 0)
        }
        XCTAssertGreaterThan(accepted, 300)
        XCTAssertGreaterThan(refused, 300)
    }

    /// A model directory whose config.json is mutated while its weights stay those of the small model:
    /// a config claiming a larger model must be refused from the tensor table, before allocation.
    func testModelDirectoryFuzz() throws {
        let dir = try makeTemporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try writeCheckpoint(dir: dir, config: smallConfig, parameters: randomParameters(ParameterLayout(config: smallConfig)))
        let configPath = dir + "/config.json"
        let valid = [UInt8](FileManager.default.contents(atPath: configPath)!)
        XCTAssertNoThrow(try HuggingFaceCheckpoint.load(from: dir))
        var m = Mutator(seed: 23)
        var accepted = 0, refused = 0
        for _ in 0..<Self.directoryCases {
            _ = FileManager.default.createFile(atPath: configPath, contents: Data(m.mutate(valid)))
            do {
                let loaded = try HuggingFaceCheckpoint.load(from: dir)
                XCTAssertEqual(loaded.parameters.count, ParameterLayout(config: loaded.config).totalCount)
                accepted += 1
            } catch { refused += 1 }
        }
        XCTAssertGreaterThan(accepted, 20)
        XCTAssertGreaterThan(refused, 100)
    }
}
