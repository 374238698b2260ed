import Foundation

/// BERT's basic (pre-WordPiece) tokenizer, matching HuggingFace's Python `BasicTokenizer`
/// as used by `BertTokenizer`:
/// 1. split out the literal special tokens ([PAD] [UNK] [CLS] [SEP] [MASK]) — HuggingFace's
///    added-token trie does this before anything else;
/// 2. clean: drop U+0000, U+FFFD and control characters, map whitespace to a space;
/// 3. put spaces around CJK ideographs;
/// 4. NFC-normalise and split on whitespace;
/// 5. uncased only: lowercase (Python `str.lower` semantics, including final sigma), NFD,
///    drop nonspacing marks (Mn);
/// 6. split every punctuation character into its own word.
public struct BasicTokenizer: Sendable {
    /// Keep case and accents (`--cased`); otherwise lowercase and strip accents.
    public let cased: Bool
    private let specials: [[Unicode.Scalar]]
    private let specialSet: Set<String>

    public init(cased: Bool) {
        self.cased = cased
        self.specials = Vocabulary.specialTokenNames.map { Array($0.unicodeScalars) }
        self.specialSet = Set(Vocabulary.specialTokenNames)
    }

    /// The basic-tokenized words of `text`.
    public func tokenize(_ text: String) -> [String] {
        var words: [String] = []
        forEachWord(in: text) { words.append($0) }
        return words
    }

    /// Calls `body` with each word of `text` in order, without building an intermediate array.
    public func forEachWord(in text: String, _ body: (String) -> Void) {
        var chunk: [Unicode.Scalar] = []
        chunk.reserveCapacity(64)
        let scalars = text.unicodeScalars
        var i = scalars.startIndex
        let end = scalars.endIndex
        while i < end {
            let s = scalars[i]
            if s == "[", let (name, next) = matchSpecial(scalars, at: i) {
                flush(&chunk, body)
                body(name)
                i = next
                continue
            }
            let v = s.value
            if v == 0 || v == 0xFFFD || CharacterClasses.isControl(s) {
                // dropped
            } else if CharacterClasses.isWhitespace(s) || CharacterClasses.isSplitSeparator(s) {
                flush(&chunk, body)
            } else if v >= 0x3400 && CharacterClasses.isCJK(s) {
                flush(&chunk, body)
                chunk.append(s)
                flush(&chunk, body)
            } else {
                chunk.append(s)
            }
            i = scalars.index(after: i)
        }
        flush(&chunk, body)
    }

    private func matchSpecial(_ scalars: String.UnicodeScalarView, at start: String.UnicodeScalarView.Index)
        -> (String, String.UnicodeScalarView.Index)?
    {
        for (k, special) in specials.enumerated() {
            var j = start
            var matched = true
            for expected in special {
                if j == scalars.endIndex || scalars[j] != expected {
                    matched = false
                    break
                }
                j = scalars.index(after: j)
            }
            if matched { return (Vocabulary.specialTokenNames[k], j) }
        }
        return nil
    }

    /// Processes one whitespace-delimited chunk (steps 4-6) and clears it.
    private func flush(_ chunk: inout [Unicode.Scalar], _ body: (String) -> Void) {
        if chunk.isEmpty { return }
        defer { chunk.removeAll(keepingCapacity: true) }
        var maxScalar: UInt32 = 0
        for s in chunk where s.value > maxScalar { maxScalar = s.value }

        var token: [Unicode.Scalar]
        if maxScalar < 0x300 {
            token = chunk  // everything below U+0300 is NFC-stable
        } else {
            var s = String()
            s.unicodeScalars.append(contentsOf: chunk)
            token = Array(s.precomposedStringWithCanonicalMapping.unicodeScalars)
        }
        if token.count <= 6 && token.first == "[" && token.last == "]" {
            var s = String()
            s.unicodeScalars.append(contentsOf: token)
            if specialSet.contains(s) {
                body(s)
                return
            }  // HuggingFace's never_split
        }
        if !cased {
            token = Self.lowercase(token)
            if maxScalar >= 0xC0 {
                var s = String()
                s.unicodeScalars.append(contentsOf: token)
                token = s.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                    $0.properties.generalCategory != .nonspacingMark
                }
            }
        }
        // Punctuation split; a chunk can still contain separators produced by normalisation,
        // which Python's final whitespace_tokenize would split on.
        var word = String()
        for s in token {
            if CharacterClasses.isPunctuation(s) {
                if !word.isEmpty {
                    body(word)
                    word = String()
                }
                body(String(Character(s)))
            } else if CharacterClasses.isSplitSeparator(s) || CharacterClasses.isWhitespace(s) {
                if !word.isEmpty {
                    body(word)
                    word = String()
                }
            } else {
                word.unicodeScalars.append(s)
            }
        }
        if !word.isEmpty { body(word) }
    }

    /// Python's `str.lower()`: full lowercase mappings, with Greek capital sigma becoming final
    /// sigma when it ends a word (preceded by a cased letter, not followed by one, ignoring
    /// case-ignorable characters in between).
    static func lowercase(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var ascii = true
        for s in input where s.value >= 0x80 {
            ascii = false
            break
        }
        if ascii {
            return input.map { s in
                let v = s.value
                return v >= 0x41 && v <= 0x5A ? Unicode.Scalar(v + 32)! : s
            }
        }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(input.count)
        for (i, s) in input.enumerated() {
            if s.value == 0x03A3 && isFinalSigma(input, i) {
                out.append("\u{03C2}")
                continue
            }
            if s.value < 0x80 {
                let v = s.value
                out.append(v >= 0x41 && v <= 0x5A ? Unicode.Scalar(v + 32)! : s)
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    private static func isFinalSigma(_ s: [Unicode.Scalar], _ i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && s[j].properties.isCased else { return false }
        var k = i + 1
        while k < s.count && s[k].properties.isCaseIgnorable { k += 1 }
        return !(k < s.count && s[k].properties.isCased)
    }
}
