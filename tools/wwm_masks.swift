// sift's whole-word masks of given token ids, for tools/wwm_compare.py (a by-hand check, not part of the build).
// Usage: wwm_masks VOCAB SEQUENCES.json DRAWS OUT.json — masks every sequence DRAWS times (epochs 0..<DRAWS,
// seed 1234) with `MLMMasker(mode: .words)` and writes, per sequence, the masked positions of each draw.
// Build it from Core and Data's sources (no package needed):
//   mkdir -p /tmp/wwm && for f in Sources/Core/*.swift Sources/Data/*.swift; do sed '/^import Core$/d' $f > /tmp/wwm/${f##*/}; done
//   cp tools/wwm_masks.swift /tmp/wwm/main.swift && swiftc -O -o /tmp/wwm/wwm_masks /tmp/wwm/*.swift -lm
import Foundation

let args = CommandLine.arguments
let vocab = try! Vocabulary(path: args[1])
let seqs = try! JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: args[2]))) as! [[Int]]
let draws = Int(args[3])!
let masker = MLMMasker(vocabulary: vocab, seed: 1234, mode: .words)
var out: [[[Int]]] = []
for (index, s) in seqs.enumerated() {
    let tokens = s.map { Int32($0) }
    var input = tokens, labels = tokens
    var perSeq: [[Int]] = []
    for epoch in 0..<draws {
        masker.mask(tokens: tokens, length: tokens.count, epoch: epoch, globalIndex: index, inputIds: &input, labels: &labels)
        perSeq.append(labels.enumerated().filter { $0.element != -100 }.map { $0.offset })
    }
    out.append(perSeq)
}
try! JSONSerialization.data(withJSONObject: out).write(to: URL(fileURLWithPath: args[4]))
