import CDRInput
import CDRRecords
import JSONText

/// What a run read, counted: the `--stats` object and the summary line on stderr.
///
/// Every line lands in exactly one count: `records`, a record type we skip (`other`),
/// a rejected line (by reason), a header, a repeated header, a comment, or a blank line.
public struct RunStatistics: Sendable {
    /// Physical lines read, over all inputs.
    public var lines = 0
    /// Records parsed, per type (indexed by `RecordType.rawValue`).
    public var recordsByType: [Int] { (0..<typeCounts.count).map { typeCounts[$0] } }
    /// What `recordsByType` reads, counted in place: an array's element counted on every
    /// line checked its buffer for sharing each time.
    var typeCounts = InlineArray<5, Int>(repeating: 0)
    /// Valid lines of a record type we do not use.
    public var otherTypes = 0
    /// Rejected lines, per reason (indexed like `RejectReason.allCases`).
    public var rejectedByReason = [Int](repeating: 0, count: RejectReason.allCases.count)
    /// Calls too late for any open detection window (counted, not detected on).
    public var lateRecords = 0
    /// SIMs evicted from the detector's state to stay within `--max-state-mb`.
    public var evictedSIMs = 0
    /// Records the detector dropped: the state cap was full of SIMs all live in the window,
    /// or the record's cell was new when the cell table was full.
    public var shedRecords = 0
    /// The most SIMs and bytes of detector state held, sampled after each chunk of input.
    public var peakSIMs = 0
    public var peakStateBytes = 0
    /// Records kept from the detector by the allow list.
    public var allowedRecords = 0
    /// Detector decisions by kind (`flagged`, `updated`, `closed`).
    public var decisions: [String: Int] = [:]
    public var headers = 0
    public var repeatedHeaders = 0
    public var comments = 0
    public var blankLines = 0
    /// The earliest and latest event time of any record.
    public var firstEventTime: EventTime?
    public var lastEventTime: EventTime?
    /// Compressed and decoded bytes, over all inputs.
    public var bytesIn = 0
    public var bytesDecoded = 0
    /// One entry per input, in the order read; the last is the one being read.
    public var inputs: [InputSummary] { readInputs + (currentInput.map { [$0] } ?? []) }
    /// The inputs before the current one.
    private var readInputs: [InputSummary] = []
    /// The input being read, counted in place (not in `inputs`' buffer, on every line).
    var currentInput: InputSummary?

    /// One input's share of the counts.
    public struct InputSummary: Sendable {
        public var name: String
        public var format: CompressionFormat?
        public var lines = 0
        public var records = 0
        public var rejected = 0
        public var bytesIn = 0
        public var bytesDecoded = 0
        /// SHA-256 of the input's bytes as read (before decoding), 64 lower-case hex
        /// digits; `nil` when the input did not end cleanly (corrupt, truncated, unreadable).
        public var sha256: String?
    }

    public init() {}

    /// Starts counting a new input.
    mutating func beginInput(named name: String) {
        if let currentInput { readInputs.append(currentInput) }
        currentInput = InputSummary(name: name)
    }

    /// Records parsed, all types.
    public var records: Int { recordsByType.reduce(0, +) }
    /// Lines rejected, all reasons.
    public var rejected: Int { rejectedByReason.reduce(0, +) }
    /// Lines that should have been records: parsed, skipped as another type, or rejected.
    public var dataLines: Int { records + otherTypes + rejected }
    /// The share of data lines rejected (0 when there were none).
    public var rejectRatio: Double { dataLines == 0 ? 0 : Double(rejected) / Double(dataLines) }

    /// The `--stats` object, as one JSON line.
    ///
    /// - Parameters:
    ///   - seconds: the run's wall-clock time, measured by the caller (the library never
    ///     reads the clock).
    ///   - threads: how the caller's threads spent the run; the `threads` object is left out
    ///     when empty.
    public func json(seconds: Double, threads: [ThreadUse] = []) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("lines"); json.int(lines)
        json.key("records"); json.int(records)
        json.key("rejected"); json.int(rejected)
        json.key("rejected_by_reason")
        json.beginObject()
        for (reason, count) in zip(RejectReason.allCases, rejectedByReason) {
            json.key(reason.rawValue); json.int(count)
        }
        json.endObject()
        json.key("record_types")
        json.beginObject()
        for (type, count) in zip(RecordType.allCases, recordsByType) {
            json.key(type.description); json.int(count)
        }
        json.key("other"); json.int(otherTypes)
        json.endObject()
        json.key("late_records")
        json.int(lateRecords)
        json.key("allowed_records")
        json.int(allowedRecords)
        json.key("detector_state")
        json.beginObject()
        json.key("peak_sims"); json.int(peakSIMs)
        json.key("peak_bytes"); json.int(peakStateBytes)
        json.key("evicted_sims"); json.int(evictedSIMs)
        json.key("shed_records"); json.int(shedRecords)
        json.endObject()
        json.key("clusters")
        json.beginObject()
        for kind in ["flagged", "updated", "closed"] {
            json.key(kind)
            json.int(decisions[kind, default: 0])
        }
        json.endObject()
        json.key("headers"); json.int(headers)
        json.key("repeated_headers"); json.int(repeatedHeaders)
        json.key("comments"); json.int(comments)
        json.key("blank_lines"); json.int(blankLines)
        json.key("first_event_time"); writeTime(firstEventTime, &json)
        json.key("last_event_time"); writeTime(lastEventTime, &json)
        json.key("bytes_in"); json.int(bytesIn)
        json.key("bytes_decoded"); json.int(bytesDecoded)
        json.key("inputs")
        json.beginArray()
        for input in inputs {
            json.beginObject()
            json.key("name"); json.string(input.name)
            json.key("format"); input.format.map { json.string($0.rawValue) } ?? json.null()
            json.key("lines"); json.int(input.lines)
            json.key("records"); json.int(input.records)
            json.key("rejected"); json.int(input.rejected)
            json.key("bytes_in"); json.int(input.bytesIn)
            json.key("bytes_decoded"); json.int(input.bytesDecoded)
            json.key("sha256"); input.sha256.map { json.string($0) } ?? json.null()
            json.endObject()
        }
        json.endArray()
        json.key("seconds"); json.decimal(seconds, fractionDigits: 3)
        if !threads.isEmpty { write(threads, &json) }
        json.endObject()
        json.newline()
        return json.bytes
    }

    /// One line for stderr: what was read and what was rejected.
    public func summary(seconds: Double) -> String {
        var text = "\(Self.count(lines, "line")), \(Self.count(records, "record"))"
        if otherTypes > 0 { text += ", \(otherTypes) of other types skipped" }
        text += ", \(rejected) rejected"
        let reasons = zip(RejectReason.allCases, rejectedByReason).filter { $0.1 > 0 }
        if !reasons.isEmpty {
            text += " (" + reasons.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", ") + ")"
        }
        if lateRecords > 0 { text += ", \(lateRecords) too late for detection" }
        if shedRecords > 0 { text += ", \(shedRecords) shed by the state cap" }
        if let flagged = decisions["flagged"] {
            text += "; \(Self.count(flagged, "cluster")) flagged"
        }
        if let firstEventTime, let lastEventTime {
            text += "; events \(firstEventTime) to \(lastEventTime)"
        }
        // Milliseconds below a tenth of a second, so that a fixture's run does not read "0 s".
        let seconds = seconds.isFinite ? max(0, seconds) : 0
        let time =
            seconds < 0.1
            ? "\(formatDecimal(seconds * 1000, fractionDigits: 1)) ms"
            : "\(formatDecimal(seconds, fractionDigits: 2)) s"
        text += "; \(bytesDecoded) bytes in \(time)"
        // A rate only from a time long enough to mean one, and only one that shows a digit:
        // never "0 M lines/s".
        let perSecond = seconds >= 0.001 ? Double(dataLines) / seconds : 0
        if perSecond >= 0.01 { text += " (\(Self.rate(perSecond)) lines/s)" }
        return text
    }

    /// "1 line", "2 lines", "0 lines".
    private static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }

    /// Lines a second to at most three significant figures, with a unit: "7.81 M", "412 K",
    /// "1.5 K", "96.5".
    private static func rate(_ perSecond: Double) -> String {
        let (value, unit) =
            perSecond >= 999_500
            ? (perSecond / 1e6, " M")
            : perSecond >= 999.5 ? (perSecond / 1e3, " K") : (perSecond, "")
        let digits = value >= 100 ? 0 : value >= 10 ? 1 : 2
        return formatDecimal(value, fractionDigits: digits) + unit
    }

    /// `"threads": {"reader": {"cpu_s": …, "waited_s": {"parser": …}}, …}`.
    private func write(_ threads: [ThreadUse], _ json: inout JSONWriter) {
        json.key("threads")
        json.beginObject()
        for thread in threads {
            json.key(thread.name)
            json.beginObject()
            json.key("cpu_s"); json.decimal(thread.cpuSeconds, fractionDigits: 3)
            json.key("waited_s")
            json.beginObject()
            for wait in thread.waits {
                json.key(wait.on); json.decimal(wait.seconds, fractionDigits: 3)
            }
            json.endObject()
            json.key("waits")
            json.beginObject()
            for wait in thread.waits {
                json.key(wait.on); json.int(wait.count)
            }
            json.endObject()
            json.endObject()
        }
        json.endObject()
    }

    private func writeTime(_ time: EventTime?, _ json: inout JSONWriter) {
        if let time { json.string(time.description) } else { json.null() }
    }
}
