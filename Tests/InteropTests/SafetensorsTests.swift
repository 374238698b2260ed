import Foundation
import Interop
import XCTest

final class SafetensorsTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTemporaryDirectory() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Writes two tensors and parses the file with a reader written here from the format spec
    /// (JSONSerialization + manual byte decoding), not with `SafetensorsFile`.
    func testWriterOutputMatchesIndependentParse() throws {
        let a: [Float] = [1, -2.5, 0.1, .greatestFiniteMagnitude, -0.0, Float(3e-39 as Double)]
        let b: [Float] = [7, 8, 9]
        let path = dir + "/t.safetensors"
        try a.withUnsafeBufferPointer { pa in
            try b.withUnsafeBufferPointer { pb in
                try SafetensorsWriter.write(
                    [
                        .init(name: "layer.\"a\"", shape: [2, 3], data: pa.baseAddress!, count: 6),
                        .init(name: "b", shape: [3], data: pb.baseAddress!, count: 3)
                    ], metadata: ["format": "pt"], to: path)
            }
        }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        XCTAssertEqual(n % 8, 0, "header padded to a multiple of 8")
        XCTAssertEqual(bytes.count, 8 + n + 4 * 9)
        let headerBytes = Array(bytes[8..<(8 + n)])
        let text = String(decoding: headerBytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{"))
        let trimmed = text.replacingOccurrences(of: " +$", with: "", options: .regularExpression)
        XCTAssertTrue(trimmed.hasSuffix("}"), "padding is spaces only")
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any])
        XCTAssertEqual(header["__metadata__"] as? [String: String], ["format": "pt"])
        let ea = try XCTUnwrap(header["layer.\"a\""] as? [String: Any])
        XCTAssertEqual(ea["dtype"] as? String, "F32")
        XCTAssertEqual(ea["shape"] as? [Int], [2, 3])
        XCTAssertEqual(ea["data_offsets"] as? [Int], [0, 24])
        let eb = try XCTUnwrap(header["b"] as? [String: Any])
        XCTAssertEqual(eb["shape"] as? [Int], [3])
        XCTAssertEqual(eb["data_offsets"] as? [Int], [24, 36])
        let data = Array(bytes[(8 + n)...])
        for (i, v) in (a + b).enumerated() {
            var bits: UInt32 = 0
            for k in 0..<4 { bits |= UInt32(data[4 * i + k]) << (8 * k) }
            XCTAssertEqual(bits, v.bitPattern, "element \(i)")
        }
        // And our own reader agrees.
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(file.names, ["layer.\"a\"", "b"])
        XCTAssertEqual(try file.floats("layer.\"a\"").map(\.bitPattern), a.map(\.bitPattern))
        XCTAssertEqual(file.metadata, ["format": "pt"])
    }

    /// The reference Python implementation (`safetensors` from PyPI): $SIFT_PYTHON (launch/test.sh
    /// installs it into a virtual environment when the system Python lacks it), else python3.
    func referencePython() throws -> String {
        let python = ProcessInfo.processInfo.environment["SIFT_PYTHON"] ?? "python3"
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = [python, "-c", "import safetensors.numpy, numpy"]
        probe.standardError = FileHandle.nullDevice
        do { try probe.run() } catch { throw XCTSkip("\(python) not available: the reference cross-check cannot run") }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            throw XCTSkip(
                "\(python) lacks safetensors/numpy (launch/test.sh installs them into a venv): the reference cross-check cannot run")
        }
        return python
    }

    /// Runs `script` with the reference Python and returns its standard output.
    func runPython(_ python: String, _ script: String, _ args: [String]) throws -> String {
        let run = Process()
        run.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        run.arguments = [python, "-c", script] + args
        let pipe = Pipe(), errors = Pipe()
        run.standardOutput = pipe
        run.standardError = errors
        try run.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        run.waitUntilExit()
        XCTAssertEqual(run.terminationStatus, 0, String(decoding: message, as: UTF8.self))
        return String(decoding: output, as: UTF8.self)
    }

    /// Our files read by the reference: several shapes (a scalar, an empty tensor, 1-D to 3-D), the
    /// values bit for bit (printed as float32 bit patterns) and the metadata.
    func testReferenceImplementationReadsOurFile() throws {
        let python = try referencePython()
        let shapes: [(String, [Int])] = [("scalar", []), ("empty", [0, 4]), ("vector", [7]), ("matrix", [3, 4]), ("cube", [2, 3, 5])]
        var storage: [[Float]] = []
        for (k, (_, shape)) in shapes.enumerated() {
            let n = shape.reduce(1, *)
            storage.append((0..<n).map { Float($0) * 0.37 - Float(k) + (k == 4 ? 1e-30 : 0) })
        }
        let path = dir + "/ref.safetensors"
        try withExtendedLifetime(storage) {
            let pointers = storage.map { values -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, values.count))
                p.initialize(from: values, count: values.count)
                return p
            }
            defer { pointers.forEach { $0.deallocate() } }
            try SafetensorsWriter.write(
                shapes.enumerated().map { k, s in
                    .init(name: s.0, shape: s.1, data: pointers[k], count: storage[k].count)
                }, metadata: ["format": "pt", "note": "sift"], to: path)
        }
        let script = """
            import sys, json, numpy, safetensors.numpy as s
            from safetensors import safe_open
            with safe_open(sys.argv[1], framework="numpy") as f:
                meta = f.metadata()
            out = {"metadata": meta, "tensors": {}}
            for name, t in s.load_file(sys.argv[1]).items():
                out["tensors"][name] = {"dtype": str(t.dtype), "shape": list(t.shape),
                                        "bits": [int(b) for b in t.reshape(-1).view(numpy.uint32)]}
            print(json.dumps(out))
            """
        let o = try JSONSerialization.jsonObject(with: Data(try runPython(python, script, [path]).utf8)) as! [String: Any]
        XCTAssertEqual(o["metadata"] as? [String: String], ["format": "pt", "note": "sift"])
        let tensors = try XCTUnwrap(o["tensors"] as? [String: [String: Any]])
        XCTAssertEqual(Set(tensors.keys), Set(shapes.map(\.0)))
        for (k, (name, shape)) in shapes.enumerated() {
            let t = try XCTUnwrap(tensors[name])
            XCTAssertEqual(t["dtype"] as? String, "float32", name)
            XCTAssertEqual(t["shape"] as? [Int], shape, name)
            XCTAssertEqual((t["bits"] as? [NSNumber])?.map(\.uint32Value), storage[k].map(\.bitPattern), name)
        }
    }

    /// Files the reference writes, read by us: float32, float16 and float64 tensors of several shapes
    /// including an empty one, converted to Float as the reference's own float32 conversion does.
    func testWeReadTheReferencesFiles() throws {
        let python = try referencePython()
        let path = dir + "/theirs.safetensors"
        let script = """
            import sys, json, numpy, safetensors.numpy as s
            r = numpy.random.default_rng(5)
            t = {"f32": r.standard_normal((3, 5)).astype(numpy.float32),
                 "f16": (r.standard_normal((4, 2, 3)) * 100).astype(numpy.float16),
                 "f64": r.standard_normal(9) * 1e3,
                 "empty": numpy.zeros((0, 3), numpy.float32)}
            s.save_file(t, sys.argv[1], metadata={"from": "reference"})
            print(json.dumps({k: {"shape": list(v.shape), "bits": [int(b) for b in v.astype(numpy.float32).reshape(-1).view(numpy.uint32)]}
                              for k, v in t.items()}))
            """
        let expected = try JSONSerialization.jsonObject(with: Data(try runPython(python, script, [path]).utf8)) as! [String: [String: Any]]
        let file = try SafetensorsFile(path: path)
        XCTAssertEqual(Set(file.names), Set(expected.keys))
        XCTAssertEqual(file.metadata, ["from": "reference"])
        for (name, e) in expected {
            let bits = (e["bits"] as! [NSNumber]).map(\.uint32Value)
            if name == "f64" {
                // F64 is outside what model weights use: refused with a clear message, or converted exactly.
                do {
                    let v = try file.floats(name)
                    XCTAssertEqual(v.map(\.bitPattern), bits, name)
                } catch { XCTAssertTrue("\(error)".contains("F64"), "\(error)") }
                continue
            }
            XCTAssertEqual(try file.floats(name).map(\.bitPattern), bits, name)
        }
    }

    func testMalformedFilesAreRejected() {
        let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertNoThrow(try SafetensorsFile(bytes: rawSafetensors(header: good, data: bytes32([1, 2])), path: "ok"))

        assertThrows(try SafetensorsFile(bytes: Data(), path: "empty"), containing: ["empty", "0 bytes"])
        assertThrows(try SafetensorsFile(bytes: Data([1, 0, 0]), path: "short"), containing: ["short", "3 bytes"])
        var huge = rawSafetensors(header: good, data: bytes32([1, 2]))
        huge[0] = 0xFF
        huge[5] = 0x01
        assertThrows(try SafetensorsFile(bytes: huge, path: "p"), containing: ["header length", "does not fit"])
        assertThrows(
            try SafetensorsFile(bytes: rawSafetensors(header: #"{"w": [1,"#, data: []), path: "p"),
            containing: ["not valid JSON"])
        assertThrows(
            try SafetensorsFile(bytes: rawSafetensors(header: "[1]", data: []), path: "p"),
            containing: ["does not start with '{'"])
        assertThrows(
            try SafetensorsFile(
                bytes: rawSafetensors(
                    header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#,
                    data: bytes32([1, 2])), path: "p"),
            containing: ["'w'", "outside", "8-byte data region"])
        assertThrows(
            try SafetensorsFile(
                bytes: rawSafetensors(
                    header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                    data: bytes32([1, 2])), path: "p"),
            containing: ["'w'", "[3]", "needs 12 bytes", "span 8"])
        assertThrows(
            try SafetensorsFile(
                bytes: rawSafetensors(
                    header: #"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#,
                    data: bytes32([1, 2])), path: "p"),
            containing: ["'w'", "unknown dtype 'Q4'"])
        assertThrows(
            try SafetensorsFile(
                bytes: rawSafetensors(
                    header:
                        #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                    data: bytes32([1, 2, 3])), path: "p"), containing: ["'a'", "'b'", "overlap"])
        assertThrows(
            try SafetensorsFile(
                bytes: rawSafetensors(
                    header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                    data: bytes32([1, 2])), path: "p"),
            containing: ["not fully covered"])
        assertThrows(
            try SafetensorsFile(
                bytes: rawSafetensors(header: #"{"w":{"dtype":"F32","shape":[2]}}"#, data: bytes32([1, 2])),
                path: "p"), containing: ["'w'", "data_offsets"])
        assertThrows(
            try SafetensorsFile(
                bytes: rawSafetensors(
                    header: #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#,
                    data: bytes32([1, 2])), path: "p"), containing: ["'w'", "shape"])
        assertThrows(
            try SafetensorsFile(
                bytes: rawSafetensors(
                    header: #"{"w":{"shape":[2],"data_offsets":[0,8]}}"#,
                    data: bytes32([1, 2])), path: "p"), containing: ["'w'", "dtype"])
        // A valid but non-float dtype is readable as a file; converting it is an error naming the tensor.
        let ints = try? SafetensorsFile(
            bytes: rawSafetensors(
                header: #"{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#,
                data: [UInt8](repeating: 0, count: 8)), path: "p")
        XCTAssertNotNil(ints)
        if let ints { assertThrows(try ints.floats("ids"), containing: ["'ids'", "I64"]) }
        assertThrows(try SafetensorsFile(path: dir + "/absent.safetensors"), containing: ["absent.safetensors"])
    }

    /// Hand-derived bit patterns: F16 1.0 = 0 01111 0000000000, -2.5 = 1 10000 0100000000,
    /// 65504 = 0 11110 1111111111, 2^-24 = smallest subnormal, 1/3 ≈ 0 01101 0101010101.
    func testHalfPrecisionConversionOfKnownValues() throws {
        let f16: [UInt16] = [0x3C00, 0xC100, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x3555, 0x0400, 0x03FF]
        let f16Expected: [Float] = [
            1.0, -2.5, 65504, 5.9604644775390625e-08, -0.0, .infinity, 0.333251953125,
            6.103515625e-05, 6.097555160522461e-05
        ]
        // BF16 1.0 = 0x3F80, -2.5 = 0xC020, 65280 = 0 10001110 1111111, 3.140625 = 0 10000000 1001001.
        let bf16: [UInt16] = [0x3F80, 0xC020, 0x477F, 0x4049]
        let bf16Expected: [Float] = [1.0, -2.5, 65280, 3.140625]
        let header = #"{"h":{"dtype":"F16","shape":[9],"data_offsets":[0,18]},"b":{"dtype":"BF16","shape":[2,2],"data_offsets":[18,26]}}"#
        let file = try SafetensorsFile(bytes: rawSafetensors(header: header, data: bytes16(f16) + bytes16(bf16)), path: "p")
        XCTAssertEqual(try file.floats("h").map(\.bitPattern), f16Expected.map(\.bitPattern))
        XCTAssertEqual(try file.floats("b"), bf16Expected)
        XCTAssertTrue(HalfPrecision.float(fromF16: 0x7E00).isNaN)
    }

    #if !(os(macOS) && arch(x86_64))
        /// Every F16 pattern against Swift's own Float16 widening as an independent reference.
        func testHalfPrecisionMatchesFloat16ForAllPatterns() {
            for bits in 0...UInt16.max {
                let reference = Float(Float16(bitPattern: bits))
                let ours = HalfPrecision.float(fromF16: bits)
                if reference.isNaN {
                    XCTAssertTrue(ours.isNaN)
                    continue
                }
                if ours.bitPattern != reference.bitPattern {
                    XCTFail("F16 \(String(bits, radix: 16)): \(ours) vs \(reference)")
                    return
                }
            }
        }
    #endif

    func testWriterRejectsBadInputAndLeavesExistingFile() throws {
        let path = dir + "/keep.safetensors"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: path))
        let v: [Float] = [1, 2, 3]
        try v.withUnsafeBufferPointer { p in
            assertThrows(
                try SafetensorsWriter.write([.init(name: "w", shape: [2, 2], data: p.baseAddress!, count: 3)], to: path),
                containing: ["'w'", "[2, 2]"])
            assertThrows(
                try SafetensorsWriter.write(
                    [
                        .init(name: "w", shape: [3], data: p.baseAddress!, count: 3),
                        .init(name: "w", shape: [3], data: p.baseAddress!, count: 3)
                    ], to: path),
                containing: ["'w'", "twice"])
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "precious")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["keep.safetensors"])
    }
}
