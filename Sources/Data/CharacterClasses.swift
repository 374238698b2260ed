/// Character predicates of HuggingFace's (slow, Python) `BasicTokenizer`, on Unicode scalars
/// (Python `str` iterates code points, not grapheme clusters, so neither do we).
enum CharacterClasses {
    /// `_is_control`: categories C* except tab, newline and carriage return.
    @inline(__always)
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v == 0x09 || v == 0x0A || v == 0x0D { return false }
        if v < 0x20 || v == 0x7F { return true }
        if v < 0x80 { return false }
        switch s.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// `_is_whitespace`: space, tab, newline, carriage return, or category Zs.
    @inline(__always)
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v == 0x20 || v == 0x09 || v == 0x0A || v == 0x0D { return true }
        if v < 0x80 { return false }
        return s.properties.generalCategory == .spaceSeparator
    }

    /// Separators of Python's `str.split()` that can survive text cleaning: the space itself
    /// plus LINE SEPARATOR and PARAGRAPH SEPARATOR (categories Zl/Zp are neither removed nor
    /// turned into spaces by `_clean_text`, but `split()` still splits on them).
    @inline(__always)
    static func isSplitSeparator(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return v == 0x20 || v == 0x2028 || v == 0x2029
    }

    /// `_is_punctuation`: the ASCII ranges 33-47, 58-64, 91-96, 123-126, or category P*.
    @inline(__always)
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126) {
            return true
        }
        if v < 0x80 { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// `_is_chinese_char`: the CJK Unified Ideograph blocks BERT splits into single tokens.
    @inline(__always)
    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        let cp = s.value
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
            || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
            || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
            || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F)
    }
}
