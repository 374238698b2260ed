/// Why a path holds no model.
public struct ModelSourceError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
