/// Carves named arrays out of one flat buffer: a first pass with no base only counts.
struct BufferCarver {
    let base: UnsafeMutablePointer<Float>?
    var used = 0
    mutating func take(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = (base ?? UnsafeMutablePointer(bitPattern: 64)!) + used
        used += (n + 15) / 16 * 16
        return p
    }
}
