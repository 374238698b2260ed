/// A training failure that every rank has agreed on (so every rank can exit cleanly with it).
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
