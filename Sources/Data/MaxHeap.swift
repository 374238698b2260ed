/// A binary max-heap ordered by `(priority, then smaller key)`, used for the merge queue of
/// the vocabulary learner. Deterministic tie-breaking keeps learned vocabularies reproducible.
struct MaxHeap {
    private var items: [(priority: Int, key: UInt64)] = []

    var isEmpty: Bool { items.isEmpty }

    @inline(__always)
    private static func above(_ a: (priority: Int, key: UInt64), _ b: (priority: Int, key: UInt64)) -> Bool {
        a.priority != b.priority ? a.priority > b.priority : a.key < b.key
    }

    mutating func push(priority: Int, key: UInt64) {
        items.append((priority, key))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !Self.above(items[i], items[parent]) { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (priority: Int, key: UInt64)? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count && Self.above(items[l], items[best]) { best = l }
                if r < items.count && Self.above(items[r], items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return top
    }
}
