/// Why a report or measurement file (`JSONCoding`) could not be used; the description is a one-line message.
public enum ReportError: Error, CustomStringConvertible {
    case unreadable(String)
    case missing(String)

    public var description: String {
        switch self {
        case .unreadable(let m), .missing(let m): return m
        }
    }
}
