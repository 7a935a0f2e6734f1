import CDRInput
import CDRRecords
import Glibc
import SIMBoxDetection

/// Turns decoded bytes into counted records: the stage between decompression and detection.
///
/// `CDRPipeline` wires the stages together and owns what leaves the program: statistics,
/// rejected lines and (with the detector) output events. It does no I/O itself; the
/// executable reads and decodes, feeds the decoded bytes here, and writes what comes back in
/// a `PipelineOutput`.
///
/// Per input (a file, or stdin):
/// 1. `beginInput(named:)`, then `feed(_:into:)` with decoded bytes in any chunking, then
///    `finishInput(into:isCutShort:)`.
/// 2. Lines are numbered from 1 per input. Blank lines and lines starting with `#` are
///    counted and skipped. The first other line is the header, unless the configuration
///    gives the columns; a later line equal to it is a repeated header (from `cat a b`) and
///    is skipped; a rejected line that reads as a complete header starts a new layout.
/// 3. Each other line is a record, a record of another type (counted, skipped), or a reject:
///    counted by reason, described on stderr for the first few, and written to the rejects
///    output when asked for.
///
/// A header that lacks a required column makes the input unreadable: `PipelineError`.
public struct Pipeline {
    public let configuration: PipelineConfiguration
    public private(set) var statistics = RunStatistics()
    /// Interned cells, shared by every input of the run.
    public let cells: CellInterner

    private var splitter: LineSplitter
    private var parser: CallRecordParser?
    private var header: [UInt8] = []
    private var inputName = "-"
    private var record = CallRecord.placeholder
    private var describedRejects = 0
    private let detection: DetectionStage?
    /// Records not detected on because their cell was new when the cell table was full.
    private var shedForCells = 0
    private var hasWarnedOfShedding = false
    private var hasWarnedOfSheddingCalls = false
    private var limitMB: Int { (configuration.detection?.limits.maxBytes ?? 0) >> 20 }
    private var locations: LocationIndex
    private var decisions: [ClusterDecision] = []
    /// Cell id → allowed by the allow list (filled as cells appear).
    private var allowedCells: [Bool] = []
    /// The allow list, or `nil` when it is empty (checked once, not per record).
    private let allowList: AllowList?
    private var hasRetiredNaiveTime = false
    /// `--evidence`: the recent lines, kept until no decision can name them (issue #12).
    private var evidence: EvidenceStage?

    /// The `record_type` of the first line of a type catpool does not know, as written.
    public private(set) var firstOtherType: String?
    /// Whether a record's time carried no zone (and was read in the configured one).
    public var hasReadNaiveTime: Bool {
        hasRetiredNaiveTime || parser?.timestamps.hasReadNaiveTime == true
    }
    /// `--evidence`: lines written, the most text held at once, and records released before
    /// every decision that could name them was known (the arena's bound); `nil` without it.
    public var evidenceCounts: (lines: Int, peakBytes: Int, forcedReleases: Int)? {
        evidence.map { ($0.linesWritten, $0.peakArenaBytes, $0.forcedReleases) }
    }
    /// The watermark restored from `--state`: calls before it are too late to count.
    public var restoredWatermark: EventTime? { detection?.restoredWatermark }

    /// - Parameter state: where to read a state file `saveState` wrote, to continue from it;
    ///   `nil` starts afresh.
    /// - Throws: `WindowConfiguration.Invalid` when the profile's windows are malformed;
    ///   `StateError` when `state` cannot be continued from.
    public init(configuration: PipelineConfiguration, continuing state: StateReader? = nil)
        throws
    {
        self.configuration = configuration
        cells = CellInterner(limit: configuration.detection?.limits.maxCells ?? Int(UInt32.max - 1))
        splitter = LineSplitter(maxLineBytes: configuration.maxLineBytes)
        allowList = configuration.detection.flatMap { $0.allowList.isEmpty ? nil : $0.allowList }
        var locations = LocationIndex(table: configuration.detection?.cellTable ?? CellTable())
        var saved = state
        if var reader = saved {
            // Nothing in a file is believed before all of it is known to be intact (#13).
            try reader.verifyChecksumFirst(magic: Self.stateMagic)
            try Self.openState(&reader, cells: cells, locations: &locations)
            saved = reader
        }
        self.locations = locations
        if let settings = configuration.detection {
            detection = try DetectionStage(
                profile: settings.profile, limits: settings.limits,
                isThreaded: settings.runsOnOwnThread, restoring: &saved,
                references: StateReferences(
                    cellCount: cells.count, locationCount: locations.locations.count))
        } else {
            detection = nil
        }
        if var saved { try saved.verifyChecksum() }
        if let settings = configuration.detection, settings.collectsEvidence {
            evidence = EvidenceStage(
                profile: settings.profile, longestLine: configuration.maxLineBytes)
        }
    }

    // MARK: - State across runs

    private static let stateMagic = Array("catpool state\n".utf8)
    private static let stateVersion = 3

    /// Everything a later run needs to continue this one (`--state`), written to `writer`.
    ///
    /// The cells and locations met so far, and the detector with its windows still open.
    /// Waits for the detector to catch up first.
    ///
    /// Format: the magic line `catpool state`, a version, the sections, and a checksum of
    /// all of it (see `StateWriter`); a file of another version or layout is refused.
    public mutating func saveState(to writer: inout StateWriter) {
        writer.writeBytes(Self.stateMagic)
        writer.write(Self.stateVersion)
        writer.write(cells.count)
        for id in 0..<cells.count { writer.write(cells.name(of: CellID(rawValue: UInt32(id)))) }
        writer.write(locations.locations.count)
        for location in locations.locations {
            writer.write(location.name)
            writer.write(location.site != nil)
            if let site = location.site {
                writer.write(site.name)
                writer.write(site.latitude ?? .nan)
                writer.write(site.longitude ?? .nan)
            }
        }
        detection?.save(into: &writer)
        writer.finish()
    }

    /// Checks the magic line and version and reads the cells and locations, leaving the
    /// reader at the detector's section.
    private static func openState(
        _ reader: inout StateReader, cells: CellInterner, locations: inout LocationIndex
    ) throws(StateError) {
        guard (try? reader.expect(stateMagic)) == true else {
            throw .incompatible("not a catpool state file")
        }
        let version: Int = try reader.read()
        guard version == stateVersion else {
            throw .incompatible("version \(version); this catpool reads version \(stateVersion)")
        }
        let cellCount = try reader.readCount(limit: cells.limit)
        for id in 0..<cellCount {
            let name: String = try reader.read()
            guard cells.intern(name).rawValue == UInt32(id) else {
                throw .malformed("cell \(id) repeats an earlier one")
            }
        }
        // Each location came from a cell; coordinates are those a cell table accepts, or
        // NaN for none.
        var saved: [LocationIndex.Location] = []
        for _ in 0..<(try reader.readCount(limit: cellCount)) {
            let name: String = try reader.read()
            var site: CellTable.Site?
            if try reader.read() as Bool {
                let siteName: String = try reader.read()
                let latitude: Double = try reader.read()
                let longitude: Double = try reader.read()
                guard latitude.isNaN || (-90...90).contains(latitude),
                    longitude.isNaN || (-180...180).contains(longitude)
                else { throw .malformed("the coordinates of location \(saved.count)") }
                site = CellTable.Site(
                    name: siteName, latitude: latitude.isNaN ? nil : latitude,
                    longitude: longitude.isNaN ? nil : longitude)
            }
            saved.append(LocationIndex.Location(name: name, site: site))
        }
        guard locations.restore(saved) else { throw .malformed("a location given twice") }
    }

    /// Ends the run: evaluates the windows still open and writes the last decisions.
    public mutating func finish(into output: inout PipelineOutput) {
        guard let detection else { return }
        record(detection.finish(into: &decisions), into: &output)
        writeDecisions(into: &output)
        evidence?.releaseAll(into: &output.evidence)
    }

    /// Waits until every record fed so far has been through the detector and adds their
    /// decisions to `output`: call it before waiting for more input, so a live feed's
    /// decisions go out at once.
    public mutating func flushDetection(into output: inout PipelineOutput) {
        guard let detection else { return }
        detection.handOver()
        let counts = detection.collect(into: &decisions, waiting: true)
        record(counts, into: &output)
        if !decisions.isEmpty { writeDecisions(into: &output) }
        evidence?.release(before: counts.watermark, into: &output.evidence)
    }

    private mutating func record(
        _ counts: DetectionStage.Counts, into output: inout PipelineOutput
    ) {
        statistics.lateRecords = counts.lateRecords
        statistics.shedRecords = counts.shedRecords + counts.shedCalls + shedForCells
        if counts.evictedSIMs > 0, statistics.evictedSIMs == 0 {
            output.diagnostics.append(
                "warning: detector state reached its cap (--max-state-mb \(limitMB)): "
                    + "evicting the least recently active SIMs")
        }
        if counts.shedCalls > 0, !hasWarnedOfSheddingCalls {
            hasWarnedOfSheddingCalls = true
            output.diagnostics.append(
                "warning: detector state is full (--max-state-mb \(limitMB)) of calls in the "
                    + "window: calls of the busiest SIMs are dropped (counted as shed_records "
                    + "in --stats)")
        }
        if counts.shedRecords + shedForCells > 0, !hasWarnedOfShedding {
            hasWarnedOfShedding = true
            output.diagnostics.append(
                "warning: detector state is full (--max-state-mb \(limitMB)) of SIMs or cells "
                    + "all live in the window: records of new ones are dropped (counted as "
                    + "shed_records in --stats)")
        }
        statistics.evictedSIMs = counts.evictedSIMs
        statistics.peakStateBytes = max(statistics.peakStateBytes, counts.stateBytes)
        statistics.peakSIMs = max(statistics.peakSIMs, counts.simCount)
    }

    /// Starts a new input: line numbers restart and a header is expected (unless the
    /// configuration gives the columns).
    public mutating func beginInput(named name: String) {
        inputName = name
        splitter.reset()
        header = []
        replaceParser(with: configuration.columnLayout)
        statistics.inputs.append(RunStatistics.InputSummary(name: name))
        evidence?.beginInput(named: name)
    }

    /// Handles every complete line in `chunk`.
    ///
    /// - Throws: `PipelineError` when a header is unusable or, with `isStrict`, on the first reject.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, into output: inout PipelineOutput)
        throws(PipelineError)
    {
        statistics.bytesDecoded += chunk.count
        statistics.inputs[statistics.inputs.count - 1].bytesDecoded += chunk.count
        // The splitter is moved out while it calls back into `self`, so the two accesses do
        // not overlap; swapping (not copying) keeps its carry buffer uniquely referenced.
        var lines = LineSplitter(maxLineBytes: configuration.maxLineBytes)
        swap(&lines, &splitter)
        defer { swap(&lines, &splitter) }
        defer { drainDetector(into: &output) }
        do {
            try lines.feed(chunk) { line in try handle(line, into: &output) }
        } catch let error as PipelineError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    /// Ends the current input.
    ///
    /// - Parameters:
    ///   - bytesIn: the compressed bytes this input had.
    ///   - format: its detected format.
    ///   - sha256: the digest of its bytes as read, when it was read to its end.
    ///   - isCutShort: `true` when decoding stopped at a fault: an unfinished last line is
    ///     then rejected as `truncated_input` rather than read.
    public mutating func finishInput(
        bytesIn: Int, format: CompressionFormat?, sha256: String? = nil, isCutShort: Bool,
        into output: inout PipelineOutput
    ) throws(PipelineError) {
        statistics.inputs[statistics.inputs.count - 1].sha256 = sha256
        statistics.bytesIn += bytesIn
        statistics.inputs[statistics.inputs.count - 1].bytesIn = bytesIn
        statistics.inputs[statistics.inputs.count - 1].format = format
        var lines = LineSplitter(maxLineBytes: configuration.maxLineBytes)
        swap(&lines, &splitter)
        defer { swap(&lines, &splitter) }
        defer { drainDetector(into: &output) }
        do {
            try lines.finish { line in
                if isCutShort {
                    countLine()
                    try reject(line, .truncatedInput, into: &output)
                } else {
                    try handle(line, into: &output)
                }
            }
        } catch let error as PipelineError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    // MARK: - Lines

    @inline(__always)
    private mutating func countLine() {
        statistics.lines += 1
        statistics.inputs[statistics.inputs.count - 1].lines += 1
    }

    private mutating func handle(_ line: LineSplitter.Line, into output: inout PipelineOutput)
        throws(PipelineError)
    {
        countLine()
        if line.isOverlong {
            try reject(
                line, .lineTooLong(length: line.length, limit: configuration.maxLineBytes),
                into: &output)
            return
        }
        var bytes = line.bytes
        if line.number == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bytes = UnsafeRawBufferPointer(rebasing: bytes.dropFirst(3))  // UTF-8 byte order mark
        }
        guard let first = bytes.first else {
            statistics.blankLines += 1
            return
        }
        if first == 0x23 {
            statistics.comments += 1
            return
        }
        guard parser != nil else {
            try readHeader(bytes, line: line.number)
            return
        }
        if bytes.count == header.count, isRepeatedHeader(bytes) {
            statistics.repeatedHeaders += 1
            return
        }
        // In place (optional chaining, not a copy): the parser caches the current day.
        guard let outcome = parser?.parse(bytes, cells: cells, into: &record) else { return }
        switch outcome {
        case .record:
            statistics.recordsByType[Int(record.type.rawValue)] += 1
            statistics.inputs[statistics.inputs.count - 1].records += 1
            let time = record.eventTime
            if statistics.firstEventTime.map({ time < $0 }) ?? true {
                statistics.firstEventTime = time
            }
            if statistics.lastEventTime.map({ time > $0 }) ?? true {
                statistics.lastEventTime = time
            }
            if evidence != nil {
                evidence?.retain(
                    imsi: record.imsi, time: time, line: line.number, text: bytes,
                    into: &output.evidence)
            }
            if detection != nil, CatPoolDetector.uses(record.type) { detect(into: &output) }
        case .otherType:
            if !adoptIfHeader(bytes) {
                statistics.otherTypes += 1
                if firstOtherType == nil { firstOtherType = typeText(of: bytes) }
            }
        case .rejected(let error):
            if !adoptIfHeader(bytes) { try reject(line, error, into: &output) }
        }
    }

    /// Takes a line that did not parse as a new header when it reads as one.
    ///
    /// Inputs joined with `cat` may change column order mid-stream. Only digit-free lines are
    /// tried, so streams full of other record types pay nothing.
    private mutating func adoptIfHeader(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard configuration.columnLayout == nil, !bytes.contains(where: { $0 &- 0x30 < 10 }),
            let layout = try? layoutFromHeader(bytes)
        else { return false }
        adopt(layout, header: bytes)
        return true
    }

    // MARK: - Detection

    private mutating func detect(into output: inout PipelineOutput) {
        guard record.cell != .overflow else {
            shedForCells += 1
            return
        }
        if let allowList {
            let cell = Int(record.cell.rawValue)
            while allowedCells.count <= cell {
                allowedCells.append(
                    allowList.cells.contains(
                        cells.name(of: CellID(rawValue: UInt32(allowedCells.count)))))
            }
            if allowedCells[cell] || allowList.imsis.contains(record.imsi.rawValue)
                || allowList.allowsNumber(record.msisdn)
            {
                statistics.allowedRecords += 1
                return
            }
        }
        let location = locations.location(of: record.cell, cells: cells)
        detection?.add(record, location: location)
    }

    /// Hands the chunk's records on to the detector and writes the decisions it has made.
    private mutating func drainDetector(into output: inout PipelineOutput) {
        guard let detection else { return }
        detection.handOver()
        let counts = detection.collect(into: &decisions, waiting: false)
        record(counts, into: &output)
        if !decisions.isEmpty { writeDecisions(into: &output) }
        evidence?.release(before: counts.watermark, into: &output.evidence)
    }

    private mutating func writeDecisions(into output: inout PipelineOutput) {
        let minSeverity = configuration.detection?.minSeverity ?? .low
        for decision in decisions {
            statistics.decisions[decision.kind.rawValue, default: 0] += 1
            // Severity only rises, so a cluster's lines pass from its first at the level on.
            guard decision.severity >= minSeverity else { continue }
            evidence?.note(decision)
            OutputEvent.encode(
                decision, location: locations.locations[Int(decision.location)], cells: cells,
                pseudonymiser: configuration.pseudonymiser, into: &output.events)
        }
        decisions.removeAll(keepingCapacity: true)
    }

    /// A parser for `layout` (none without one), keeping what the one it replaces noticed.
    private mutating func replaceParser(with layout: ColumnLayout?) {
        hasRetiredNaiveTime = hasReadNaiveTime
        parser = layout.map {
            CallRecordParser(
                layout: $0, timestamps: configuration.timestamps,
                typeAliases: configuration.typeAliases)
        }
    }

    /// The `record_type` field of a line of another type, for a message (once per run).
    private func typeText(of line: UnsafeRawBufferPointer) -> String? {
        guard let layout = parser?.layout, let column = layout.column(of: .recordType) else {
            return nil
        }
        let fields = line.split(separator: layout.delimiter, omittingEmptySubsequences: false)
        guard column < fields.count else { return nil }
        let text = String(decoding: fields[column], as: UTF8.self).filter {
            $0 != "\"" && $0 != " "
        }
        return configuration.pseudonymiser?.redactingDigitRuns(text) ?? text
    }

    private func isRepeatedHeader(_ bytes: UnsafeRawBufferPointer) -> Bool {
        return header.withUnsafeBytes { stored in
            guard let storedBase = stored.baseAddress, let base = bytes.baseAddress else {
                return true
            }
            return memcmp(storedBase, base, bytes.count) == 0
        }
    }

    private mutating func readHeader(_ bytes: UnsafeRawBufferPointer, line: Int)
        throws(PipelineError)
    {
        do {
            adopt(try layoutFromHeader(bytes), header: bytes)
        } catch {
            throw .unusableHeader(
                input: inputName, line: line, configuration.pseudonymiser?.redacting(error) ?? error
            )
        }
    }

    private func layoutFromHeader(_ bytes: UnsafeRawBufferPointer) throws(HeaderError)
        -> ColumnLayout
    {
        try ColumnLayout(
            header: bytes, delimiter: configuration.delimiter, renames: configuration.renames)
    }

    private mutating func adopt(_ layout: ColumnLayout, header bytes: UnsafeRawBufferPointer) {
        replaceParser(with: layout)
        header = Array(bytes)
        statistics.headers += 1
    }

    // MARK: - Rejects

    private mutating func reject(
        _ line: LineSplitter.Line, _ error: RecordError, into output: inout PipelineOutput
    ) throws(PipelineError) {
        let reason = error.reason
        // With --pseudonymise, what is quoted from the line is redacted everywhere (#14).
        let error = configuration.pseudonymiser?.redacting(error) ?? error
        statistics.rejectedByReason[RejectReason.allCases.firstIndex(of: reason) ?? 0] += 1
        statistics.inputs[statistics.inputs.count - 1].rejected += 1
        if configuration.isStrict {
            throw .strictReject(input: inputName, line: line.number, error)
        }
        if describedRejects < configuration.describedRejectLimit {
            describedRejects += 1
            output.diagnostics.append("\(inputName):\(line.number): \(reason.rawValue): \(error)")
            if describedRejects == configuration.describedRejectLimit {
                output.diagnostics.append(
                    "further rejected lines are counted but not shown here (see --rejects)")
            }
        }
        guard configuration.collectsRejects else { return }
        var json = JSONWriter()
        json.beginObject()
        json.key("input"); json.string(inputName)
        json.key("line"); json.int(line.number)
        json.key("reason"); json.string(reason.rawValue)
        json.key("detail"); json.string(error.description)
        if let pseudonymiser = configuration.pseudonymiser {
            // Redacted whole, then cut: a cut must not leave the head of an identifier raw.
            pseudonymiser.redactingDigitRuns(line.bytes).withUnsafeBytes {
                json.key("text"); json.string(bytes: Self.textForReport($0))
            }
        } else {
            json.key("text"); json.string(bytes: Self.textForReport(line.bytes))
        }
        json.endObject()
        json.newline()
        output.rejects.append(contentsOf: json.bytes)
    }

    /// At most 1 KiB of the line, cut at a UTF-8 character boundary.
    static func textForReport(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let limit = 1024
        guard bytes.count > limit else { return bytes }
        var end = limit
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }  // do not split a character
        return UnsafeRawBufferPointer(rebasing: bytes[..<end])
    }
}

/// What the pipeline produced from a chunk.
///
/// Bytes for stdout and the rejects file, and lines for stderr. The caller writes and clears
/// it.
public struct PipelineOutput {
    /// JSON lines for stdout.
    public var events: [UInt8] = []
    /// JSON lines for `--rejects`.
    public var rejects: [UInt8] = []
    /// JSON lines for `--evidence` (`EvidenceStage`).
    public var evidence: [UInt8] = []
    /// Messages for stderr, without the program name or line end.
    public var diagnostics: [String] = []

    public init() {}

    public mutating func removeAll() {
        events.removeAll(keepingCapacity: true)
        rejects.removeAll(keepingCapacity: true)
        evidence.removeAll(keepingCapacity: true)
        diagnostics.removeAll(keepingCapacity: true)
    }
}

/// A fault that stops the run: the input cannot be read as CDRs.
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    /// The header line of an input lacks a required column or repeats one.
    case unusableHeader(input: String, line: Int, HeaderError)
    /// `--strict` is set and a line was rejected.
    case strictReject(input: String, line: Int, RecordError)

    public var description: String {
        switch self {
        case .unusableHeader(let input, let line, let error):
            return "\(input):\(line): \(error)"
        case .strictReject(let input, let line, let error):
            return "\(input):\(line): \(error.reason.rawValue): \(error) (--strict)"
        }
    }
}
