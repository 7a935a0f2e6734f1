/// Why a line was rejected: the counter name in statistics and `--rejects` files.
public enum RejectReason: String, CaseIterable, Sendable, Codable {
    /// The line has more or fewer fields than its header.
    case fieldCount = "field_count"
    /// A quoted field is not closed, or text follows its closing quote.
    case badQuoting = "bad_quoting"
    /// A required field is empty.
    case missingField = "missing_field"
    case badTime = "bad_time"
    case badIMSI = "bad_imsi"
    case badIMEI = "bad_imei"
    case badMSISDN = "bad_msisdn"
    case badPeer = "bad_peer"
    case badDuration = "bad_duration"
    case badCell = "bad_cell"
    /// Longer than `--max-line-bytes`.
    case lineTooLong = "line_too_long"
    /// The last, unfinished line before a truncated or corrupt compressed stream.
    case truncatedInput = "truncated_input"
}

/// A line that cannot be read as a record.
///
/// It is counted and reported, and the run goes on.
public enum RecordError: Error, Equatable, CustomStringConvertible {
    /// The line has `found` fields where its header has `expected`.
    case fieldCount(expected: Int, found: Int)
    /// Column `column` (1-based) opens a quote that does not close before a delimiter.
    case badQuoting(column: Int)
    /// A required field is empty.
    case missingField(ColumnLayout.Field)
    /// The `event_time` field is not a time in a supported form, or is out of range.
    case badTime(String)
    /// An identifier field (IMSI, IMEI, MSISDN, peer) is malformed.
    case badIdentifier(ColumnLayout.Field, String)
    /// `duration_s` is not a non-negative number of seconds.
    case badDuration(String)
    /// The cell token is longer than `CallRecordParser.maxCellBytes`.
    case badCell(String)
    /// The line is longer than the limit.
    case lineTooLong(length: Int, limit: Int)
    /// The line was cut off by a fault in the compressed stream.
    case truncatedInput

    public var reason: RejectReason {
        switch self {
        case .fieldCount: return .fieldCount
        case .badQuoting: return .badQuoting
        case .missingField: return .missingField
        case .badTime: return .badTime
        case .badIdentifier(let field, _):
            switch field {
            case .imei: return .badIMEI
            case .msisdn: return .badMSISDN
            case .peer: return .badPeer
            default: return .badIMSI
            }
        case .badDuration: return .badDuration
        case .badCell: return .badCell
        case .lineTooLong: return .lineTooLong
        case .truncatedInput: return .truncatedInput
        }
    }

    public var description: String {
        switch self {
        case .fieldCount(let expected, let found):
            return "expected \(expected) fields, found \(found)"
        case .badQuoting(let column):
            return "column \(column): a quoted field must end with a quote before the delimiter"
        case .missingField(let field):
            return "field \"\(field.name)\" is empty"
        case .badTime(let text):
            return "field \"event_time\": not a time in a supported form: \"\(text)\""
        case .badIdentifier(let field, let text):
            let expectation: String
            switch field {
            case .imei: expectation = "14 to 16 digits"
            case .imsi: expectation = "6 to 15 digits"
            default: expectation = "up to 18 digits, optionally after '+'"
            }
            return "field \"\(field.name)\": expected \(expectation), got \"\(text)\""
        case .badDuration(let text):
            return "field \"duration_s\": expected whole seconds, got \"\(text)\""
        case .badCell(let text):
            return
                "field \"cell\": longer than \(CallRecordParser.maxCellBytes) bytes: \"\(text)…\""
        case .lineTooLong(let length, let limit):
            return "line of \(length) bytes is longer than the limit of \(limit)"
        case .truncatedInput:
            return "line cut off by the end of a damaged compressed stream"
        }
    }
}
