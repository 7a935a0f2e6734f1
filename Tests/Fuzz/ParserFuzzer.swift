// libFuzzer entry point for the CDR line parser: header detection, splitting (both
// splitters), every field reader, the day cache, and the three ways a cell is taken
// (interned at once, queued, ignored), which must agree. Built by Tests/Fuzz/fuzz.sh together with
// the CDRRecords sources (one module, so it sees their internals).
//
// The input's first line is taken as a header (as `catpool check` does), the rest as
// records; a crash, a trap (overflow, bounds) or an ASan report is a finding.

let defaultHeader = "event_time,record_type,imsi,imei,msisdn,peer,duration_s,cell"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    var lines = Lines(cells: CellInterner(expectedCount: 16, limit: 64))
    var start = 0
    for index in 0...size where index == size || bytes[index] == 0x0A {
        lines.read(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        start = index + 1
    }
    lines.checkQueuedCells()
    // Every time form on its own, too.
    var timestamps = TimestampParser(naiveOffsetSeconds: 3600)
    _ = timestamps.parse(bytes)
    _ = PhoneNumber(numberOrSender: bytes)
    _ = IMEI(digits: bytes)
    return 0
}

/// The input's lines, read the three ways a cell can be taken.
///
/// Cells interned at once, queued and interned later (`detect`), and not looked up (`check`)
/// must give the same outcome and record, and the queue the ids interning at once gave.
struct Lines {
    let cells: CellInterner
    let queuedCells = CellInterner(expectedCount: 16, limit: 64)
    let queue = CellQueue(capacity: 4)
    var parser: CallRecordParser?
    /// Per queued cell, the id the same token got when interned at once.
    var interned: [CellID] = []

    init(cells: CellInterner) { self.cells = cells }

    mutating func read(_ line: UnsafeRawBufferPointer) {
        if parser != nil {
            parse(line)
        } else if let layout = try? ColumnLayout(header: line, delimiter: nil) {
            parser = CallRecordParser(layout: layout)
        } else if let layout = try? ColumnLayout(header: defaultHeader, delimiter: nil) {
            // Not a header: the contract's default columns, and this line is a record.
            parser = CallRecordParser(layout: layout)
            parse(line)
        }
    }

    private mutating func parse(_ line: UnsafeRawBufferPointer) {
        guard var atOnce = parser else { return }
        var queueing = atOnce
        var ignoring = atOnce
        var record = CallRecord.placeholder
        var queued = CallRecord.placeholder
        var ignored = CallRecord.placeholder
        let outcome = atOnce.parse(line, cells: cells, into: &record)
        let queuedOutcome = queueing.parse(line, cellsTo: queue, into: &queued)
        let ignoredOutcome = ignoring.parse(line, cellsTo: IgnoredCells(), into: &ignored)
        precondition(queuedOutcome == outcome && ignoredOutcome == outcome)
        if outcome == .record {
            precondition(Int(queued.cell.rawValue) == interned.count)
            interned.append(record.cell)
            queued.cell = record.cell
            ignored.cell = record.cell
            precondition(queued == record && ignored == record)
        }
        parser = atOnce
    }

    func checkQueuedCells() {
        let ids = queue.resolve(in: queuedCells) { Array($0) }
        precondition(ids == interned, "queued cells got other ids than cells interned at once")
    }
}
