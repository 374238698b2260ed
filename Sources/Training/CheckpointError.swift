import Core
import Foundation
import Kernels
import Model
import Selection

/// Why a checkpoint could not be read or written.
public enum CheckpointError: Error, CustomStringConvertible {
    case notACheckpoint(path: String)
    case truncated(path: String, expected: Int, actual: Int)
    case checksumMismatch(path: String)
    case badHeader(path: String, reason: String)
    case wrongModel(path: String, reason: String)
    case io(path: String, reason: String)
    /// `--resume` found nothing to continue from (or could not set damaged files aside).
    case cannotResume(directory: String, reason: String)

    /// Whether the file itself is damaged (unreadable as a checkpoint), rather than unreachable.
    public var isDamage: Bool {
        switch self {
        case .notACheckpoint, .truncated, .checksumMismatch, .badHeader: return true
        case .wrongModel, .io, .cannotResume: return false
        }
    }

    public var description: String {
        switch self {
        case .notACheckpoint(let p): return "\(p) is not a sift checkpoint (bad magic bytes)"
        case .truncated(let p, let e, let a): return "checkpoint \(p) is truncated: \(a) bytes, expected \(e)"
        case .checksumMismatch(let p): return "checkpoint \(p) is corrupt: checksum mismatch"
        case .badHeader(let p, let r): return "checkpoint \(p) has an unreadable header: \(r)"
        case .wrongModel(let p, let r): return "checkpoint \(p) does not match this run: \(r)"
        case .io(let p, let r): return "cannot access checkpoint \(p): \(r)"
        case .cannotResume(let d, let r): return "cannot resume from \(d): \(r)"
        }
    }
}
