/// Where one sample's saved prefix activations are: chunk (one forward call) and row within it.
public struct PrefixSlot: Sendable, Equatable {
    public var chunk: Int
    public var row: Int
    public init(chunk: Int, row: Int) {
        self.chunk = chunk
        self.row = row
    }
}
