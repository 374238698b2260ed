import Foundation

/// How the text of corpus files is to be read by `sift prepare`.
public enum CorpusFormat: String, CaseIterable, Sendable, Codable {
    /// Plain text: documents are runs of non-blank lines, taken as they are.
    case text
    /// reStructuredText (Sphinx sources such as Python's documentation): decoration that is markup
    /// rather than language — section adornments, table borders, directive and comment markers,
    /// link targets, inline role syntax — is removed; prose and code text are kept.
    case rst
    /// JSON Lines: every line is an object whose text field (a string; `text` unless another name is
    /// given) is one document, the form most public corpora ship in.
    case jsonl

    /// The format `auto` picks for a list of corpus files: `rst` if most files end in `.rst` or
    /// `.rst.txt` (Sphinx's `_sources`), `jsonl` if most end in `.jsonl`, else `text` (a `.gz` or `.zst`
    /// suffix is looked through: `a.jsonl.zst` counts as `.jsonl`).
    public static func detect(files: [String]) -> CorpusFormat {
        guard !files.isEmpty else { return .text }
        let names = files.map(CorpusCompression.uncompressedName)
        let rst = names.filter { $0.hasSuffix(".rst") || $0.hasSuffix(".rst.txt") }.count
        let jsonl = names.filter { $0.hasSuffix(".jsonl") }.count
        if 2 * rst > files.count { return .rst }
        if 2 * jsonl > files.count { return .jsonl }
        return .text
    }
}

/// Turns the reader's raw events into the events of the chosen format: cleaned reStructuredText,
/// one document per JSON line, or plain text unchanged. Stateful within a file's line sequence
/// (directive options and comment blocks span lines); call `reset()` is not needed between files
/// because every file ends with an `endOfDocument`, which clears the state.
public struct CorpusFilter {
    public let format: CorpusFormat
    /// The JSON Lines field holding a record's text (top level).
    public let textField: String
    /// JSON Lines records skipped: lines that are not JSON, and objects without a string text field.
    public var skippedRecords: Int { brokenLines + recordsWithoutText }
    /// JSON Lines lines that do not parse as a JSON object.
    public private(set) var brokenLines = 0
    /// JSON Lines objects without a string text field.
    public private(set) var recordsWithoutText = 0
    /// Lines removed as markup (reStructuredText).
    public private(set) var removedLines = 0
    private var skipDeeperThan: Int? = nil
    private var afterDirective: Int? = nil
    private let cleaner = RestructuredTextCleaner()

    public init(format: CorpusFormat, textField: String = CorpusFilter.defaultTextField) {
        self.format = format
        self.textField = textField
    }

    /// The JSON Lines text field when none is named.
    public static let defaultTextField = "text"

    /// The state one stretch of a corpus hands on to the next: whether a document is open, and the
    /// indentation below which reStructuredText comment and directive bodies are still being dropped
    /// (it survives blank lines and file ends). Reading a corpus in pieces gives the same events as
    /// reading it whole when every piece starts from the carry the previous piece ended with.
    public struct Carry: Equatable, Sendable {
        public var openDocument = false
        public var skipDeeperThan: Int? = nil
        public init(openDocument: Bool = false, skipDeeperThan: Int? = nil) {
            self.openDocument = openDocument
            self.skipDeeperThan = skipDeeperThan
        }
    }

    /// The filter's carry now (valid between lines, where the reader leaves no directive pending).
    public var carry: Carry {
        get { Carry(openDocument: openDocument, skipDeeperThan: skipDeeperThan) }
        set {
            openDocument = newValue.openDocument
            skipDeeperThan = newValue.skipDeeperThan
        }
    }

    /// Feeds one reader event; `emit` receives the events to tokenize. A document whose every line
    /// was markup produces no events at all (no empty document).
    public mutating func process(_ event: CorpusEvent, _ emit: (CorpusEvent) throws -> Void) rethrows {
        var open = openDocument
        try filter(event) { out in
            switch out {
            case .text:
                open = true
                try emit(out)
            case .endOfDocument:
                if open { try emit(out) }
                open = false
            }
        }
        openDocument = open
    }

    private var openDocument = false

    private mutating func filter(_ event: CorpusEvent, _ emit: (CorpusEvent) throws -> Void) rethrows {
        switch format {
        case .text:
            try emit(event)
        case .jsonl:
            guard case .text(let line) = event else { return }
            guard let data = line.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else {
                brokenLines += 1
                return
            }
            guard let text = object[textField] as? String else {
                recordsWithoutText += 1
                return
            }
            var any = false
            for piece in text.split(whereSeparator: \.isNewline) where !piece.allSatisfy(\.isWhitespace) {
                try emit(.text(String(piece)))
                any = true
            }
            if any { try emit(.endOfDocument) }
        case .rst:
            switch event {
            case .endOfDocument:
                // A blank line: comment and directive-option blocks may continue past it only when
                // indented, which `skipDeeperThan` handles line by line.
                afterDirective = nil
                try emit(.endOfDocument)
            case .text(let line):
                let indent = line.prefix { $0 == " " || $0 == "\t" }.count
                if let depth = skipDeeperThan {
                    if indent > depth {
                        removedLines += 1
                        return
                    }
                    skipDeeperThan = nil
                }
                if let depth = afterDirective, indent > depth, RestructuredTextCleaner.isOptionLine(line) {
                    removedLines += 1
                    return
                }
                afterDirective = nil
                switch cleaner.classify(line) {
                case .drop:
                    removedLines += 1
                case .dropWithBody:
                    removedLines += 1
                    skipDeeperThan = indent
                case .directive(let text):
                    afterDirective = indent
                    if let text, !text.isEmpty { try emit(.text(cleaner.cleanInline(text))) } else { removedLines += 1 }
                case .keep:
                    let cleaned = cleaner.cleanInline(line)
                    if cleaned.allSatisfy(\.isWhitespace) { removedLines += 1 } else { try emit(.text(cleaned)) }
                }
            }
        }
    }
}

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
