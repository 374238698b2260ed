import Foundation

/// Seconds one rank spent in each phase of a training step.
public struct PhaseTimes: Sendable, Codable, Equatable {
    /// Reading and masking samples into batches.
    public var data = 0.0
    /// Early-exit forward passes over this rank's share of the pool.
    public var scoring = 0.0
    /// Exchanging losses and choosing the global top b; includes waiting for the slowest scorer.
    public var selection = 0.0
    /// Full forward and backward of the selected samples.
    public var forwardBackward = 0.0
    /// Gradient allreduce time not hidden behind backward.
    public var exposedAllreduce = 0.0
    /// Gradient norm, clipping and the AdamW update.
    public var optimizer = 0.0
    /// Small blocking collectives (masked-token count, step statistics): mostly waiting for other ranks.
    public var waiting = 0.0

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case data, scoring, selection, forwardBackward = "forward_backward", exposedAllreduce = "exposed_allreduce"
        case optimizer, waiting
    }

    public var total: Double { data + scoring + selection + forwardBackward + exposedAllreduce + optimizer + waiting }

    /// Adds another set of times, phase by phase.
    public mutating func add(_ o: PhaseTimes) {
        data += o.data; scoring += o.scoring; selection += o.selection; forwardBackward += o.forwardBackward
        exposedAllreduce += o.exposedAllreduce; optimizer += o.optimizer; waiting += o.waiting
    }

    /// These summed times divided by `steps` (at least 1): the mean time per step of each phase.
    public func mean(over steps: Int) -> PhaseTimes {
        let n = Double(max(1, steps))
        var m = self
        m.data /= n; m.scoring /= n; m.selection /= n; m.forwardBackward /= n
        m.exposedAllreduce /= n; m.optimizer /= n; m.waiting /= n
        return m
    }

    /// Every phase rounded to microseconds, as the metrics file writes them.
    var rounded: PhaseTimes {
        var r = self
        for key in [\PhaseTimes.data, \.scoring, \.selection, \.forwardBackward, \.exposedAllreduce, \.optimizer, \.waiting] {
            r[keyPath: key] = MetricsLine.rounded(r[keyPath: key], "%.6f")
        }
        return r
    }
}

/// Measures the wall time of a closure, adding it to `into`.
@inline(__always)
func timed<T>(_ into: inout Double, _ body: () throws -> T) rethrows -> T {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let r = try body()
    into += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    return r
}

/// Appends JSON Lines records to a file, one flushed line per record (rank 0 only).
final class JSONLinesWriter {
    private let handle: FileHandle

    /// Opens `path` for appending (`append`) or as a new file.
    init(path: String, append: Bool) throws {
        let fm = FileManager.default
        if !append || !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else {
                throw TrainingError(message: "cannot create metrics file \(path)")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw TrainingError(message: "cannot open metrics file \(path) for writing")
        }
        h.seekToEndOfFile()
        handle = h
    }

    func write(_ line: String) {
        handle.write((line + "\n").data(using: .utf8)!)
    }
}

/// A training failure that every rank has agreed on (so every rank can exit cleanly with it).
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
