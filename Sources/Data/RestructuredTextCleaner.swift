import Foundation

/// Line-level rules for reStructuredText markup (see `CorpusFormat.rst`).
public struct RestructuredTextCleaner: Sendable {
    /// What to do with one source line.
    public enum LineKind: Equatable {
        case keep
        case drop
        /// A comment or a directive whose body is not prose (toctree, index, raw, …): drop the line
        /// and every following line indented deeper.
        case dropWithBody
        /// A directive: keep its argument text (e.g. a function signature), if any.
        case directive(String?)
    }

    /// Directives whose arguments and bodies are navigation or build instructions, not language.
    static let bodylessDirectives: Set<String> = [
        "toctree", "index", "raw", "include", "literalinclude", "image", "figure", "highlight",
        "sectionauthor", "moduleauthor", "codeauthor", "currentmodule", "tabularcolumns", "only",
        "testsetup", "testcleanup", "csv-table", "list-table", "audit-event-table", "productionlist",
        "highlightlang", "cssclass", "rst-class", "contents", "sidebar", "auditevent"
    ]
    /// Directives whose argument is not text (kept out) but whose body is prose or code (kept).
    static let argumentlessDirectives: Set<String> = [
        "code-block", "sourcecode", "code", "doctest", "testcode", "testoutput", "impl-detail",
        "availability", "audit-event", "opcode", "cmdoption", "option", "envvar", "pdbcommand",
        "versionadded", "versionchanged", "deprecated", "deprecated-removed", "module", "program",
        "describe", "data", "glossary"
    ]
    static let adornment: Set<Character> = Set("=-`:'\"~^_*+#<>.!$%&(),/;?@[\\]{|}")

    public init() {}

    /// Directive option lines (`:maxdepth: 2`, `:noindex:`), which follow a directive line.
    public static func isOptionLine(_ line: String) -> Bool {
        let t = line.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix(":"), t.count >= 3 else { return false }
        let rest = t.dropFirst()
        guard let close = rest.firstIndex(of: ":") else { return false }
        let name = rest[..<close]
        return !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    public func classify(_ line: String) -> LineKind {
        let t = line.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return .drop }
        // Section adornment: one punctuation character repeated (≥ 3), e.g. "=====" or "-----".
        if t.count >= 3, let c = t.first, Self.adornment.contains(c), t.allSatisfy({ $0 == c }) { return .drop }
        // Table borders: only - = + | : and spaces, with at least three of - or =.
        if t.allSatisfy({ "-=+|: ".contains($0) }) && t.filter({ $0 == "-" || $0 == "=" }).count >= 3 { return .drop }
        if t == "::" { return .drop }
        if t.hasPrefix("__ ") { return .drop }  // anonymous link target
        if t.hasPrefix("..") {
            if t == ".." { return .dropWithBody }
            guard t.hasPrefix(".. ") else { return .keep }
            let body = t.dropFirst(3)
            // Targets, substitutions, footnotes.
            if body.hasPrefix("_") || body.hasPrefix("|") || body.hasPrefix("[") { return .dropWithBody }
            guard let range = body.range(of: "::") else { return .dropWithBody }  // a comment
            let name = body[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == ":" || $0 == "_" }) else {
                return .dropWithBody
            }
            let bare = name.split(separator: ":").last.map(String.init) ?? name  // "py:function" → "function"
            if Self.bodylessDirectives.contains(bare) { return .dropWithBody }
            let argument = body[range.upperBound...].trimmingCharacters(in: .whitespaces)
            if Self.argumentlessDirectives.contains(bare) { return .directive(nil) }
            return .directive(argument.isEmpty ? nil : argument)
        }
        return .keep
    }

    /// Removes inline markup from kept text: roles (`:func:\`~os.path.join\`` → `os.path.join`),
    /// literals (``` ``x`` ``` → `x`), links (`` `text <url>`_ `` → `text`), emphasis, substitutions,
    /// grid-table cell bars, escaped spaces and the literal-block marker `::` (→ `:`).
    public func cleanInline(_ line: String) -> String {
        var s = line
        if s.contains("`") {
            s = Self.replace(Self.role, in: s) { groups in
                var t = groups[1]
                if let lt = t.range(of: " <", options: .backwards), t.hasSuffix(">") { t = String(t[..<lt.lowerBound]) }
                while t.hasPrefix("~") || t.hasPrefix("!") { t.removeFirst() }
                return t
            }
            s = Self.replace(Self.literal, in: s) { $0[1] }
            s = Self.replace(Self.link, in: s) { groups in
                var t = groups[1]
                if let lt = t.range(of: " <", options: .backwards), t.hasSuffix(">") { t = String(t[..<lt.lowerBound]) }
                return t
            }
        }
        if s.contains("*") {
            s = Self.replace(Self.strong, in: s) { $0[1] }
            s = Self.replace(Self.emphasis, in: s) { $0[1] + $0[2] + $0[3] }
        }
        if s.contains("|") {
            let t = s.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("|") {
                s = s.replacingOccurrences(of: "|", with: " ")  // grid-table row or line block
            } else {
                s = Self.replace(Self.substitution, in: s) { $0[1] }
            }
        }
        if s.contains("\\ ") { s = s.replacingOccurrences(of: "\\ ", with: "") }
        if s.hasSuffix("::") { s.removeLast() }
        return s
    }

    private static let role = try! NSRegularExpression(pattern: ":[A-Za-z0-9_:+-]+:`([^`]*)`")
    private static let literal = try! NSRegularExpression(pattern: "``(.+?)``")
    private static let link = try! NSRegularExpression(pattern: "`([^`]+)`_{1,2}")
    private static let strong = try! NSRegularExpression(pattern: "\\*\\*(\\S(?:.*?\\S)?)\\*\\*")
    private static let emphasis = try! NSRegularExpression(pattern: "(^|[\\s(\"'])\\*(\\S(?:[^*]*?\\S)?)\\*($|[\\s).,;:!?\"'])")
    private static let substitution = try! NSRegularExpression(pattern: "\\|([^|\\s][^|]*?)\\|")

    /// Replaces every match of `regex` with `transform(groups)`, where groups[0] is the whole match.
    private static func replace(_ regex: NSRegularExpression, in s: String, _ transform: ([String]) -> String) -> String {
        let ns = s as NSString
        let matches = regex.matches(in: s, range: NSRange(location: 0, length: ns.length))
        guard !matches.isEmpty else { return s }
        var out = ""
        var last = 0
        for m in matches {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            let groups = (0..<m.numberOfRanges).map { i -> String in
                let r = m.range(at: i)
                return r.location == NSNotFound ? "" : ns.substring(with: r)
            }
            out += transform(groups)
            last = m.range.location + m.range.length
        }
        out += ns.substring(from: last)
        return out
    }
}
