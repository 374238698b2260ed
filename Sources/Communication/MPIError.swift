/// An error reported by an MPI call, with the name of the call that failed.
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public var description: String { "MPI call \(call) failed with error code \(code)" }
}
