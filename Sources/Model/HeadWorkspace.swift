import Kernels

/// Buffers of the MLM head over M gathered (masked) rows, grown with M.
final class HeadWorkspace {
    let config: BertConfig
    private(set) var capacity = 0
    private var storage = FloatBuffer(count: 0)
    var gathered: UnsafeMutablePointer<Float>! = nil  // [M, H]
    var transformPre: UnsafeMutablePointer<Float>! = nil  // [M, H] dense output, GELU input
    var transformAct: UnsafeMutablePointer<Float>! = nil  // [M, H] GELU output, LN input
    var mean: UnsafeMutablePointer<Float>! = nil, rstd: UnsafeMutablePointer<Float>! = nil  // [M]
    var normed: UnsafeMutablePointer<Float>! = nil  // [M, H] decoder input
    var logits: UnsafeMutablePointer<Float>! = nil  // [M, V], overwritten by dlogits
    var gradNormed: UnsafeMutablePointer<Float>! = nil, gradAct: UnsafeMutablePointer<Float>! = nil
    var gradGathered: UnsafeMutablePointer<Float>! = nil  // [M, H]
    var losses: UnsafeMutablePointer<Float>! = nil  // [M]
    var rows = UnsafeMutablePointer<Int32>.allocate(capacity: 1)  // flat position b*T+t of each masked row
    var labels = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    var correct = UnsafeMutablePointer<Bool>.allocate(capacity: 1)

    init(config: BertConfig) { self.config = config }
    deinit {
        rows.deallocate()
        labels.deallocate()
        correct.deallocate()
    }

    func reserve(_ m: Int) {
        if m <= capacity { return }
        let cap = max(m, capacity * 3 / 2, 16)
        let H = config.hiddenSize, V = config.vocabSize
        var counter = BufferCarver(base: nil)
        carve(&counter, cap, H, V)
        storage = FloatBuffer(count: counter.used)
        var real = BufferCarver(base: storage.pointer)
        carve(&real, cap, H, V)
        rows.deallocate()
        labels.deallocate()
        correct.deallocate()
        rows = .allocate(capacity: cap)
        labels = .allocate(capacity: cap)
        correct = .allocate(capacity: cap)
        capacity = cap
    }

    private func carve(_ c: inout BufferCarver, _ m: Int, _ H: Int, _ V: Int) {
        gathered = c.take(m * H)
        transformPre = c.take(m * H)
        transformAct = c.take(m * H)
        mean = c.take(m)
        rstd = c.take(m)
        normed = c.take(m * H)
        logits = c.take(m * V)
        gradNormed = c.take(m * H)
        gradAct = c.take(m * H)
        gradGathered = c.take(m * H)
        losses = c.take(m)
    }
}
