import Communication
import Core
import Foundation
import Model
import SiftTestSupport
import Training
import XCTest

/// A record the reader cannot decode.
struct DecodeError: Error {
    let what: String
}

/// One record of an event file as an independent reader decodes it.
struct DecodedEvent {
    var wallTime = 0.0
    var step: Int64 = 0
    var fileVersion: String?
    /// The `session_log` status, when the event is one (1: START).
    var sessionStatus: UInt64?
    var values: [String: Float] = [:]
}

/// Reads a TFRecord file of `tensorflow.Event`s, checking each record's two masked CRC-32Cs, and decodes the
/// fields TensorBoard's scalars use: wall_time (1), step (2), file_version (3), summary (5) of Value (1) with
/// tag (1) and simple_value (2), and session_log (7) with status (1). Unknown fields are skipped by wire type.
func readEventFile(_ path: String) throws -> [DecodedEvent] {
    let bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path)))
    func masked(_ data: ArraySlice<UInt8>) -> UInt32 {
        let crc = CRC32C.checksum(Array(data))
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
    func le<T: FixedWidthInteger>(_ slice: ArraySlice<UInt8>, as: T.Type) -> T {
        slice.reversed().reduce(T(0)) { $0 << 8 | T($1) }
    }
    struct Reader {
        var bytes: ArraySlice<UInt8>
        mutating func varint() throws -> UInt64 {
            var v: UInt64 = 0, shift: UInt64 = 0
            while true {
                let b = try XCTUnwrap(bytes.popFirst(), "truncated varint")
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
        }
        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard bytes.count >= n else { throw DecodeError(what: "a field of \(n) bytes is cut") }
            defer { bytes = bytes.dropFirst(n) }
            return bytes.prefix(n)
        }
        /// The next (field, wire type, payload); varints come back as their 8 bytes little-endian.
        mutating func field() throws -> (Int, Int, ArraySlice<UInt8>)? {
            guard !bytes.isEmpty else { return nil }
            let key = try varint()
            let wire = Int(key & 7)
            switch wire {
            case 0: return (Int(key >> 3), 0, ArraySlice(withUnsafeBytes(of: try varint().littleEndian) { Array($0) }))
            case 1: return (Int(key >> 3), 1, try take(8))
            case 2: return (Int(key >> 3), 2, try take(Int(try varint())))
            case 5: return (Int(key >> 3), 5, try take(4))
            default: throw DecodeError(what: "wire type \(wire)")
            }
        }
    }
    var events: [DecodedEvent] = []
    var at = 0
    while at < bytes.count {
        XCTAssertGreaterThanOrEqual(bytes.count - at, 16, "a record header is cut at byte \(at)")
        let lengthBytes = bytes[at..<at + 8]
        XCTAssertEqual(le(bytes[at + 8..<at + 12], as: UInt32.self), masked(lengthBytes), "length CRC of the record at \(at)")
        let length = Int(le(lengthBytes, as: UInt64.self))
        let data = bytes[at + 12..<at + 12 + length]
        XCTAssertEqual(le(bytes[at + 12 + length..<at + 16 + length], as: UInt32.self), masked(data), "data CRC at \(at)")
        at += 16 + length
        var event = DecodedEvent()
        var reader = Reader(bytes: data)
        while let (field, _, payload) = try reader.field() {
            switch field {
            case 1: event.wallTime = Double(bitPattern: le(payload, as: UInt64.self))
            case 2: event.step = Int64(bitPattern: le(payload, as: UInt64.self))
            case 3: event.fileVersion = String(decoding: payload, as: UTF8.self)
            case 5:
                var summary = Reader(bytes: payload)
                while let (f, _, value) = try summary.field() {
                    XCTAssertEqual(f, 1, "a Summary holds only values")
                    var v = Reader(bytes: value), tag = "", number: Float?
                    while let (g, _, x) = try v.field() {
                        if g == 1 { tag = String(decoding: x, as: UTF8.self) }
                        if g == 2 { number = Float(bitPattern: le(x, as: UInt32.self)) }
                    }
                    XCTAssertNil(event.values[tag], "tag \(tag) twice in one event")
                    event.values[tag] = try XCTUnwrap(number, "\(tag) has no simple_value")
                }
            case 7:
                var log = Reader(bytes: payload)
                while let (f, _, x) = try log.field() {
                    if f == 1 { event.sessionStatus = le(x, as: UInt64.self) }
                }
            default: XCTFail("unexpected Event field \(field)")
            }
        }
        events.append(event)
    }
    return events
}

/// `--tensorboard`: the event file a real run writes, read back, holds the values of its metrics file.
final class TensorBoardTests: XCTestCase {
    static let V = 40

    func options(_ dir: String) -> TrainingOptions {
        var o = TrainingOptions()
        o.policy = .sift
        o.batchSize = 4
        o.selectFraction = 0.5
        o.steps = 4
        o.siftDelay = 1
        o.warmupSteps = 0
        o.fidelityEvery = 2
        o.evalEvery = 2
        o.evalSamples = nil
        o.checkReplicasEvery = 0
        o.watchdogSeconds = 0
        o.metricsPath = dir + "/metrics.jsonl"
        o.tensorboardDirectory = dir + "/tb"
        return o
    }

    func run(_ o: TrainingOptions) throws {
        func samples(_ n: Int) -> InMemorySamples { InMemorySamples.random(count: n, seqLen: 12, vocab: Self.V, every: 3, seed: UInt64(n)) }
        let trainer = Trainer(
            options: o, model: BertForMaskedLM(config: BertConfig.named("tiny", vocabSize: Self.V)!, seed: 1),
            communicator: SingleProcess(), train: samples(30), validation: samples(6), vocabHash: "test",
            output: { _ in })
        let point = o.resume ? try TrainingCheckpoint.resumePoint(directory: o.checkpointDirectory!, startIfNone: false).checkpoint : nil
        try trainer.resume(from: point)
        _ = try trainer.run()
    }

    func eventFiles(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("events.out.tfevents.") }.sorted()
            .map { dir + "/" + $0 }
    }

    /// The scalars each metrics line should give, by tag (docs/METRICS.md, TensorBoard).
    func expectedScalars(_ row: [String: Any]) -> [String: Float] {
        var want: [String: Float] = [:]
        func number(_ key: String) -> Double? { row[key] as? Double ?? (row[key] as? Int).map(Double.init) }
        if row["final"] != nil {
            want["val/loss"] = Float(number("val_loss")!)
            want["val/accuracy"] = Float(number("val_accuracy")!)
            return want
        }
        want["train/loss"] = Float(number("train_loss")!)
        want["train/lr"] = Float(number("lr")!)
        want["train/grad_norm"] = Float(number("grad_norm")!)
        let times = row["times"] as! [String: Any]
        let keys = ["data", "scoring", "selection", "forward_backward", "exposed_allreduce", "optimizer", "waiting"]
        want["train/step_seconds"] = Float(keys.map { (times[$0] as? Double) ?? Double(times[$0] as! Int) }.reduce(0, +))
        want["sift/selecting"] = row["threshold"] is NSNull ? 0 : 1
        if let t = number("threshold") { want["sift/threshold"] = Float(t) }
        if let v = number("fidelity_spearman") { want["sift/fidelity_spearman"] = Float(v) }
        if let v = number("fidelity_top_overlap") { want["sift/fidelity_top_overlap"] = Float(v) }
        if let v = number("val_loss") { want["val/loss"] = Float(v) }
        if let v = number("val_accuracy") { want["val/accuracy"] = Float(v) }
        return want
    }

    func metricsRows(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            .map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    /// Every record's CRCs hold; the first event is the file version; then one event per metrics line, at its
    /// step, with exactly the documented tags and the line's values (as floats).
    func testEventFileHoldsTheValuesOfTheMetricsFile() throws {
        let dir = temporaryDirectory("tensorboard")
        let o = options(dir)
        let before = Date().timeIntervalSince1970
        try run(o)
        let files = try eventFiles(dir + "/tb")
        XCTAssertEqual(files.count, 1)
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        XCTAssertTrue(files[0].hasSuffix("." + host), files[0])
        let events = try readEventFile(files[0])
        let rows = try metricsRows(o.metricsPath!)
        XCTAssertEqual(rows.count, 5, "four step lines and the final line")
        XCTAssertEqual(events.count, 1 + rows.count)
        XCTAssertEqual(events[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(events[0].step, 0)
        XCTAssertTrue(events[0].values.isEmpty)
        var sawThreshold = false, sawFidelity = false, sawValidation = false
        for (event, row) in zip(events.dropFirst(), rows) {
            XCTAssertEqual(event.step, Int64(row["step"] as! Int))
            XCTAssertNil(event.fileVersion)
            XCTAssertTrue(event.wallTime >= before - 1 && event.wallTime <= Date().timeIntervalSince1970 + 1, "\(event.wallTime)")
            let want = expectedScalars(row)
            XCTAssertEqual(Set(event.values.keys), Set(want.keys), "tags at step \(event.step)")
            for (tag, value) in want {
                let got = try XCTUnwrap(event.values[tag])
                // The step time is a sum the test adds in another order: equal to the float's last bit or two.
                XCTAssertEqual(got, value, accuracy: tag == "train/step_seconds" ? value.ulp * 2 : 0, "\(tag) at step \(event.step)")
            }
            sawThreshold = sawThreshold || want["sift/threshold"] != nil
            sawFidelity = sawFidelity || want["sift/fidelity_spearman"] != nil
            sawValidation = sawValidation || (want["val/loss"] != nil && row["final"] == nil)
        }
        XCTAssertTrue(sawThreshold && sawFidelity && sawValidation, "the run exercises every optional tag")
        XCTAssertEqual(events[1].values["sift/selecting"], 0, "the sifting delay's step does not select")
        XCTAssertEqual(events[2].values["sift/selecting"], 1)
    }

    /// A run stopped after step 2 and resumed writes a second file, beginning with the file version and a
    /// session START at step 3 (TensorBoard drops what earlier files hold from there on); the two files
    /// together hold the metrics file's lines, the resumed run's in the new file.
    func testResumedRunAddsAFileThatRestartsAfterTheCheckpoint() throws {
        let dir = temporaryDirectory("tensorboard-resume")
        var o = options(dir)
        o.checkpointDirectory = dir + "/ckpt"
        o.checkpointEvery = 1
        o.stopAfter = 2
        try run(o)
        o.stopAfter = nil
        o.resume = true
        try run(o)
        let files = try eventFiles(dir + "/tb")
        XCTAssertEqual(files.count, 2, "\(files)")
        let first = try readEventFile(files[0]), second = try readEventFile(files[1])
        XCTAssertEqual(first.first?.step, 0)
        XCTAssertEqual(first.dropFirst().map(\.step).max(), 2, "the first run stopped after step 2")
        XCTAssertEqual(second.prefix(2).map(\.step), [0, 3])
        XCTAssertEqual(second.last?.step, 4)
        XCTAssertEqual(second[0].fileVersion, "brain.Event:2")
        XCTAssertEqual(second[1].sessionStatus, 1, "SessionLog START")
        XCTAssertTrue(second[1].values.isEmpty)
        let rows = try metricsRows(o.metricsPath!)
        let scalarEvents = (first + second).filter { !$0.values.isEmpty }
        XCTAssertEqual(scalarEvents.count, rows.count)
        for (event, row) in zip(scalarEvents, rows) {
            XCTAssertEqual(event.step, Int64(row["step"] as! Int))
            XCTAssertEqual(event.values["train/loss"], expectedScalars(row)["train/loss"])
        }
    }
}
