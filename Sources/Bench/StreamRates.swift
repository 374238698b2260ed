/// STREAM copy and triad rates, bytes/s.
public struct StreamRates: Codable, Sendable {
    public var copyBytesPerS: Double
    public var triadBytesPerS: Double
    public init(copyBytesPerS: Double, triadBytesPerS: Double) {
        self.copyBytesPerS = copyBytesPerS
        self.triadBytesPerS = triadBytesPerS
    }
}
