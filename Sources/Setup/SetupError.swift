/// A bad input found while setting up a run, as one line.
public struct SetupError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }

    static func missingDataset(_ dir: String) -> SetupError {
        SetupError("dataset \(dir) does not exist (--data takes a directory written by `sift prepare`)")
    }
}
