/// Which held-out part of a prepared dataset to read.
public enum DatasetSplit: String, Codable, Sendable, CaseIterable {
    case train
    case validation
}
