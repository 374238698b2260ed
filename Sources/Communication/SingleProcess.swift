import Foundation

/// A job of one rank without MPI: every collective is the identity.
public final class SingleProcess: Collectives, @unchecked Sendable {
    public let rank = 0
    public let size = 1

    public init() {}

    public func abort(code: Int32) -> Never { exit(code) }
    public func allreduceSum(_ data: UnsafeMutablePointer<Float>, count: Int) {}
    public func allreduceSum(_ values: [Double]) -> [Double] { values }
    public func allreduceSum(_ value: Int) -> Int { value }
    public func allreduceMax(_ value: Double) -> Double { value }
    public func allreduceMax(_ values: [Double]) -> [Double] { values }
    public func allAgree(_ ok: Bool) -> Bool { ok }
    public func allgatherv(_ local: [Float]) -> [Float] { local }
    public func allgather(_ value: UInt64) -> [UInt64] { [value] }
    public func allgatherv(bytes local: [UInt8], counts: [Int]) -> [UInt8] { local }
    public func broadcast(_ data: UnsafeMutablePointer<Float>, count: Int, root: Int) {}
    public func broadcast(_ bytes: [UInt8], root: Int) -> [UInt8] { bytes }
    public func startAllreduceSum(_ data: UnsafeMutablePointer<Float>, count: Int) -> PendingReduction { PendingReduction() }
    public func startAllreduceSumBF16(_ data: UnsafeMutablePointer<UInt16>, count: Int) -> PendingReduction { PendingReduction() }
}
