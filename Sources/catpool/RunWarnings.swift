import CDRPipeline
import CDRRecords
import SIMBoxDetection

/// Warnings about a run that worked but probably not as meant (#16).
///
/// It read no records, most records were of types catpool does not know, or the input was
/// older than the `--state` file's windows. Printed even under `-q`, which hides only the summary and the
/// per-line reject descriptions: a nightly job run with `-q` must still say that its night
/// produced nothing usable.
struct RunWarnings {
    let statistics: RunStatistics
    /// The `record_type` of the first line of an unknown type, as written.
    let firstOtherType: String?
    /// The watermark restored from `--state`, if a state file was continued.
    let restoredWatermark: EventTime?
    let statePath: String?

    /// The warnings, in the order to print them.
    var messages: [String] {
        [noRecords, unknownTypes, olderThanState].compactMap { $0 }
    }

    /// The timestamp warning, given once, as soon as a time without a zone is read and
    /// `--timezone` was not given.
    static let naiveTimes =
        "warning: timestamps carry no zone; read as UTC; pass --timezone +08:00 (the operator's "
        + "offset) if they are local time, or --timezone Z to say they are UTC"

    private var inputNames: String {
        statistics.inputs.map { $0.name == "-" ? "stdin" : $0.name }.joined(separator: ", ")
    }

    private var noRecords: String? {
        guard statistics.dataLines == 0 else { return nil }
        if statistics.lines == 0 {
            let isPlural = statistics.inputs.count > 1
            return "warning: no records read: \(inputNames) \(isPlural ? "are" : "is") empty"
        }
        if statistics.lines == statistics.headers {
            return "warning: no records read: \(inputNames) held a header and no data line"
        }
        return
            "warning: no records read: \(inputNames) held \(statistics.lines) lines and no data "
            + "line (\(statistics.headers) headers, \(statistics.comments) comments, "
            + "\(statistics.blankLines) blank)"
    }

    private var unknownTypes: String? {
        let other = statistics.otherTypes
        guard other > 0, other * 2 > statistics.records + other else { return nil }
        let known = RecordType.allCases.map(\.description).joined(separator: ", ")
        let example = firstOtherType.map { "\($0)=MOC" } ?? "VALUE=MOC"
        return
            "warning: \(other) of \(statistics.records + other) records have a record_type "
            + "catpool does not know\(firstOtherType.map { " (the first: \"\($0)\")" } ?? "") "
            + "and were skipped; the known types are \(known): map others with "
            + "--map-type VALUE=TYPE, e.g. --map-type \(example)"
    }

    private var olderThanState: String? {
        guard let restoredWatermark, let statePath else { return nil }
        let late = statistics.lateRecords
        // Only calls enter the windows, so only calls can be late.
        let calls = [RecordType.moc, .mtc].reduce(0) {
            $0 + statistics.recordsByType[Int($1.rawValue)]
        }
        guard late > 0, late * 2 > calls else { return nil }
        let range =
            statistics.firstEventTime.flatMap { first in
                statistics.lastEventTime.map { " (events \(first) to \($0))" }
            } ?? ""
        return
            "warning: \(late) of \(calls) calls\(range) are older than the "
            + "--state file's watermark \(restoredWatermark), so they were not detected on: "
            + "this input looks already processed. To run it again, pass another --state "
            + "file, or remove \(statePath) to start afresh"
    }
}

extension PipelineWarning {
    /// The warning in words, for stderr; it names the flags that change it.
    var message: String {
        switch self {
        case .rejectedLine(let input, let line, let error):
            return "\(input):\(line): \(error.reason.rawValue): \(error)"
        case .furtherRejectsNotDescribed:
            return "further rejected lines are counted but not shown here (see --rejects)"
        case .evictingSIMs(let limitBytes):
            return "warning: detector state reached its cap (--max-state-mb \(limitBytes >> 20)): "
                + "evicting the least recently active SIMs"
        case .sheddingCalls(let limitBytes):
            return "warning: detector state is full (--max-state-mb \(limitBytes >> 20)) of calls "
                + "in the window: calls of the busiest SIMs are dropped (counted as shed_records "
                + "in --stats)"
        case .sheddingRecords(let limitBytes):
            return "warning: detector state is full (--max-state-mb \(limitBytes >> 20)) of SIMs "
                + "or cells all live in the window: records of new ones are dropped (counted as "
                + "shed_records in --stats)"
        }
    }
}

extension PipelineError {
    /// The error in words, for stderr.
    var message: String {
        switch self {
        case .unusableHeader(let input, let line, let error):
            return "\(input):\(line): \(error.message)"
        case .strictReject: return "\(description) (--strict)"
        }
    }
}

extension HeaderError {
    /// The error in words, for stderr; it names the flags that fix it (`--map`, `--columns`).
    var message: String {
        switch self {
        case .missingColumns:
            return "\(description); use --map FIELD=COLUMN to rename, or --columns for a file "
                + "without a header"
        case .duplicateColumn:
            return description
        case .renamedColumnMissing(let field, let column, let found):
            return "--map \(field)=\(column): the header has no column \"\(column)\" "
                + "(header: \(Self.shown(found)))"
        }
    }
}

extension StateError {
    /// The error in words, for stderr; a state too large for the cap names the flag that
    /// raises it.
    var message: String {
        guard case .tooLarge = self else { return description }
        return "\(description); raise --max-state-mb"
    }
}
