/// Why an `MLMBatch` cannot be run through a model.
public enum BatchError: Error, CustomStringConvertible, Equatable, Sendable {
    case shape(String)
    case value(field: String, position: Int, value: Int, expected: String)

    public var description: String {
        switch self {
        case .shape(let s): return "invalid MLM batch: \(s)"
        case let .value(field, position, value, expected):
            return "invalid MLM batch: \(field)[\(position)] = \(value), expected \(expected)"
        }
    }
}
