import Foundation

/// Why a metrics file could not be summarised, as one line.
public struct RunSummaryError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
