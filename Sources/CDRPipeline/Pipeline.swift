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
/// A stage like the others: `feed(_:into:)` and, at the end of the run, `finish(into:)`
/// (or `saveState(to:into:)` to continue later; `flush(into:)` before the input goes quiet).
///
/// Per input (a file, or stdin):
/// 1. `feed(.begin(name:))`, then `feed(.bytes(_:))` with decoded bytes in any chunking,
///    then `feed(.end(…))`.
/// 2. Lines are numbered from 1 per input. Blank lines and lines starting with `#` are
///    counted and skipped. The first other line is the header, unless the configuration
///    gives the columns; a later line equal to it is a repeated header (from `cat a b`) and
///    is skipped; a rejected line that reads as a complete header starts a new layout.
/// 3. Each other line is a record, a record of another type (counted, skipped), or a reject:
///    counted by reason, described on stderr for the first few, and written to the rejects
///    output when asked for.
///
/// Records the detector uses go to the detection stage in batches of
/// `DetectionStage.batchCapacity`, when the cell queue is full (`cellQueueCapacity`), and at
/// the end of every chunk; their cells are interned as a batch goes. Its decisions come back as
/// output events. The stage runs inline, or wherever the `DetectionRunner` given to `init`
/// runs it (the executable: a thread of its own); the output is the same bytes either way.
///
/// A header that lacks a required column makes the input unreadable: `PipelineError`.
/// What the run goes on after comes back as `PipelineWarning`s, for the caller to word.
public struct Pipeline {
    public let configuration: PipelineConfiguration
    public internal(set) var statistics = RunStatistics()
    /// Interned cells, shared by every input of the run.
    public let cells: CellInterner

    private var splitter: LineSplitter
    private var parser: CallRecordParser?
    private var header: [UInt8] = []
    var inputName = "-"
    private var record = CallRecord.placeholder
    var describedRejects = 0
    /// Runs the detection stage; `nil` without detection (`catpool check`).
    var detection: (any DetectionRunner)?
    /// Records for the detection stage, handed over when full and at each chunk's end; a
    /// record's cell is its place in `cellQueue` until the batch is handed over.
    var batch: [DetectionStage.Item] = []
    /// With detection, every record's cell token, interned when the batch is handed over.
    /// (A constant: passing a variable's class reference to the parser retained and released
    /// it for every line.)
    let cellQueue: CellQueue
    /// What the detection stage has decided and not yet been written.
    var detected = DetectionStage.Output()
    /// Records not detected on because their cell was new when the cell table was full.
    var shedForCells = 0
    var hasWarnedOfShedding = false
    var hasWarnedOfSheddingCalls = false
    var locations: LocationIndex
    /// Cell id → allowed by the allow list (filled as cells appear).
    var allowedCells: [Bool] = []
    /// The allow list, or `nil` when it is empty (checked once, not per record).
    let allowList: AllowList?
    private var hasRetiredNaiveTime = false
    /// `--evidence`: the recent lines, kept until no decision can name them (issue #12).
    var evidence: EvidenceStage?

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
    public let restoredWatermark: EventTime?

    /// - Parameters:
    ///   - state: where to read a state file `saveState` wrote, to continue from it; `nil`
    ///     starts afresh.
    ///   - runner: what runs the detection stage; by default `InlineDetection`.
    /// - Throws: `WindowConfiguration.Invalid` when the profile's windows are malformed;
    ///   `StateError` when `state` cannot be continued from.
    public init(
        configuration: PipelineConfiguration, continuing state: StateReader? = nil,
        runningDetection runner: (consuming DetectionStage) -> any DetectionRunner = {
            InlineDetection($0)
        }
    ) throws {
        self.configuration = configuration
        cells = CellInterner(limit: configuration.detection?.limits.maxCells ?? Int(UInt32.max - 1))
        cellQueue = CellQueue(capacity: configuration.detection == nil ? 0 : Self.cellQueueCapacity)
        splitter = LineSplitter(maxLineBytes: configuration.maxLineBytes)
        allowList = configuration.detection.flatMap { $0.allowList.isEmpty ? nil : $0.allowList }
        var locations = LocationIndex(table: configuration.detection?.cellTable ?? CellTable())
        let stage = try Self.detectionStage(
            configuration.detection, continuing: state, cells: cells, locations: &locations)
        self.locations = locations
        if let stage {
            restoredWatermark = stage.restoredWatermark
            batch.reserveCapacity(DetectionStage.batchCapacity)
            detection = runner(stage)
        } else {
            restoredWatermark = nil
            detection = nil
        }
        if let settings = configuration.detection, settings.collectsEvidence {
            evidence = EvidenceStage(
                profile: settings.profile, longestLine: configuration.maxLineBytes)
        }
    }

    /// Handles one step of the inputs: one begins, decoded bytes of it, or it ends.
    ///
    /// - Throws: `PipelineError` when a header is unusable or, with `isStrict`, on the first
    ///   reject.
    public mutating func feed(_ input: PipelineInput, into output: inout PipelineOutput)
        throws(PipelineError)
    {
        switch input {
        case .begin(let name): begin(named: name)
        case .bytes(let chunk): try handle(chunk, into: &output)
        case .end(let bytesIn, let format, let sha256, let isCutShort):
            try end(
                bytesIn: bytesIn, format: format, sha256: sha256, isCutShort: isCutShort,
                into: &output)
        }
    }

    /// Starts a new input: line numbers restart and a header is expected (unless the
    /// configuration gives the columns).
    private mutating func begin(named name: String) {
        inputName = name
        splitter.reset()
        header = []
        replaceParser(with: configuration.columnLayout)
        statistics.beginInput(named: name)
        evidence?.beginInput(named: name)
    }

    /// Handles every complete line in `chunk`.
    private mutating func handle(_ chunk: UnsafeRawBufferPointer, into output: inout PipelineOutput)
        throws(PipelineError)
    {
        statistics.bytesDecoded += chunk.count
        statistics.currentInput?.bytesDecoded += chunk.count
        // The splitter is moved out while it calls back into `self`, so the two accesses do
        // not overlap; swapping (not copying) keeps its carry buffer uniquely referenced.
        var lines = LineSplitter(maxLineBytes: configuration.maxLineBytes)
        swap(&lines, &splitter)
        defer { swap(&lines, &splitter) }
        defer { handOverToDetection(into: &output) }
        do {
            try lines.feed(chunk) { line in try handle(line, into: &output) }
        } catch let error as PipelineError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    /// Ends the current input (`PipelineInput.end`).
    private mutating func end(
        bytesIn: Int, format: CompressionFormat?, sha256: String?, isCutShort: Bool,
        into output: inout PipelineOutput
    ) throws(PipelineError) {
        statistics.currentInput?.sha256 = sha256
        statistics.bytesIn += bytesIn
        statistics.currentInput?.bytesIn = bytesIn
        statistics.currentInput?.format = format
        var lines = LineSplitter(maxLineBytes: configuration.maxLineBytes)
        swap(&lines, &splitter)
        defer { swap(&lines, &splitter) }
        defer { handOverToDetection(into: &output) }
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
        statistics.currentInput?.lines += 1
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
        let parsed: CallRecordParser.Outcome?
        if detection != nil {
            parsed = parser?.parse(bytes, cellsTo: cellQueue, into: &record)
        } else {
            // Without detection no cell is looked up.
            parsed = parser?.parse(bytes, cellsTo: IgnoredCells(), into: &record)
        }
        guard let outcome = parsed else { return }
        switch outcome {
        case .record:
            statistics.typeCounts[Int(record.type.rawValue)] += 1
            statistics.currentInput?.records += 1
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
            if detection != nil {
                if CatPoolDetector.uses(record.type) { detect(record) }
                // Records the detector does not use queue their cells too, so that ids stay
                // in order of first appearance; the queue is emptied at least this often.
                if cellQueue.count == Self.cellQueueCapacity { feedBatch() }
            }
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
}
