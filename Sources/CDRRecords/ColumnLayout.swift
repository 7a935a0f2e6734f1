/// Which column of a line holds which field, read from a header line or given by the user.
///
/// Header names are matched case-insensitively after trimming spaces and quotes; columns
/// with other names are ignored; the order is free. A rename (`--map imsi=served_imsi`)
/// makes a field come from the named column instead of its default name.
public struct ColumnLayout: Sendable, Equatable {
    /// A field of the input contract (`docs/input.md`).
    public enum Field: Int, CaseIterable, Sendable, CustomStringConvertible {
        case eventTime, recordType, imsi, imei, msisdn, peer, duration, cell

        /// The column name in the contract, also the field's name in messages.
        public var name: String {
            switch self {
            case .eventTime: return "event_time"
            case .recordType: return "record_type"
            case .imsi: return "imsi"
            case .imei: return "imei"
            case .msisdn: return "msisdn"
            case .peer: return "peer"
            case .duration: return "duration_s"
            case .cell: return "cell"
            }
        }

        /// Whether a record without this field is rejected.
        public var isRequired: Bool {
            switch self {
            case .eventTime, .recordType, .imsi, .cell: return true
            case .imei, .msisdn, .peer, .duration: return false
            }
        }

        public init?(name: String) {
            guard let field = Field.allCases.first(where: { $0.name == name.lowercased() }) else {
                return nil
            }
            self = field
        }

        public var description: String { name }
    }

    /// The field delimiter byte: `,`, `;`, `|` or tab.
    public let delimiter: UInt8
    /// The column names as written (trimmed), for messages.
    public let columnNames: [String]
    /// For each column, the field it holds, or `nil` when the column is ignored.
    public let fieldByColumn: [Field?]

    /// The delimiters a file may use.
    public static let delimiters: [UInt8] = [0x2C, 0x3B, 0x7C, 0x09]

    /// Maps named columns to fields.
    ///
    /// - Parameters:
    ///   - columnNames: the columns in file order.
    ///   - delimiter: the field delimiter.
    ///   - renames: fields that come from a column with another name.
    /// - Throws: `HeaderError` when a required field has no column, a renamed field's column
    ///   is absent, or two columns claim one field.
    public init(columnNames: [String], delimiter: UInt8, renames: [Field: String] = [:])
        throws(HeaderError)
    {
        let normalized = columnNames.map(Self.normalize)
        var columnOfField: [Field: String] = [:]
        for field in Field.allCases {
            columnOfField[field] = renames[field].map(Self.normalize) ?? field.name
        }
        var fields: [Field?] = []
        var seen = Set<Field>()
        for name in normalized {
            let field = Field.allCases.first { columnOfField[$0] == name }
            if let field {
                guard seen.insert(field).inserted else { throw .duplicateColumn(name) }
            }
            fields.append(field)
        }
        // A rename to a column the header lacks is a mistake even for an optional field:
        // ignoring it would silently read the field as absent.
        for field in Field.allCases {
            if let column = renames[field], !normalized.contains(Self.normalize(column)) {
                throw .renamedColumnMissing(field: field.name, column: column, found: normalized)
            }
        }
        let missing = Field.allCases.filter { $0.isRequired && !seen.contains($0) }
        guard missing.isEmpty else {
            throw .missingColumns(missing.map { columnOfField[$0] ?? $0.name }, found: normalized)
        }
        self.delimiter = delimiter
        self.columnNames = columnNames.map { $0.trimmingSpacesAndQuotes() }
        self.fieldByColumn = fields
    }

    /// Reads a header line.
    ///
    /// - Parameters:
    ///   - header: the header line, without its line end.
    ///   - delimiter: the delimiter, or `nil` to take the most frequent of `,` `;` `|` tab.
    ///   - renames: fields that come from a column with another name.
    public init(header: UnsafeRawBufferPointer, delimiter: UInt8?, renames: [Field: String] = [:])
        throws(HeaderError)
    {
        try self.init(
            header: String(decoding: header, as: UTF8.self), delimiter: delimiter, renames: renames)
    }

    /// Reads a header line given as text.
    public init(header: String, delimiter: UInt8?, renames: [Field: String] = [:])
        throws(HeaderError)
    {
        var text = header
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let separator = delimiter ?? Self.detectDelimiter(Array(text.utf8))
        let names = text.split(
            separator: Character(UnicodeScalar(separator)), omittingEmptySubsequences: false
        )
        .map(String.init)
        try self.init(columnNames: names, delimiter: separator, renames: renames)
    }

    /// The number of columns every line must have.
    public var columnCount: Int { fieldByColumn.count }

    /// The column holding `field`, if any.
    public func column(of field: Field) -> Int? { fieldByColumn.firstIndex(of: field) }

    /// The most frequent of the accepted delimiters in `line`; `,` when none occurs.
    public static func detectDelimiter(_ line: [UInt8]) -> UInt8 {
        var best: UInt8 = 0x2C
        var bestCount = 0
        for candidate in delimiters {
            let count = line.reduce(0) { $0 + ($1 == candidate ? 1 : 0) }
            if count > bestCount {
                best = candidate
                bestCount = count
            }
        }
        return best
    }

    static func normalize(_ name: String) -> String {
        var name = name
        if name.hasPrefix("\u{FEFF}") { name.removeFirst() }
        return name.trimmingSpacesAndQuotes().lowercased()
    }
}

/// A header line that cannot be used: the input cannot be read at all.
///
/// `description` names no command-line flag; the executable adds the ones that fix it.
public enum HeaderError: Error, Equatable, CustomStringConvertible {
    /// Required fields have no column; `found` lists the header's columns.
    case missingColumns([String], found: [String])
    /// Two columns map to the same field.
    case duplicateColumn(String)
    /// A rename (`renames` of `ColumnLayout`) maps `field` to a column the header does not
    /// have; `found` lists the header's columns.
    case renamedColumnMissing(field: String, column: String, found: [String])

    /// The header's columns as messages show them: the first 20, comma-separated.
    public static func shown(_ found: [String]) -> String {
        found.prefix(20).joined(separator: ",")
    }

    public var description: String {
        switch self {
        case .missingColumns(let names, let found):
            let quoted = names.map { "\"\($0)\"" }.joined(separator: ", ")
            return
                "header lacks required column\(names.count == 1 ? "" : "s") \(quoted) "
                + "(header: \(Self.shown(found)))"
        case .duplicateColumn(let name):
            return "header names column \"\(name)\" twice"
        case .renamedColumnMissing(let field, let column, let found):
            return
                "field \(field) renamed to column \"\(column)\": the header has no such column "
                + "(header: \(Self.shown(found)))"
        }
    }
}

extension String {
    func trimmingSpacesAndQuotes() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        if scalars.count >= 2, scalars.first == "\"", scalars.last == "\"" {
            scalars = scalars.dropFirst().dropLast()
        }
        return String(scalars)
    }
}
