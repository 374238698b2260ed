import Foundation

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
