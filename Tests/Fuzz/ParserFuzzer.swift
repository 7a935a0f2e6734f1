// libFuzzer entry point for the CDR line parser: header detection, splitting (both
// splitters), every field reader, the day cache. Built by Tests/Fuzz/fuzz.sh together with
// the CDRRecords sources (one module, so it sees their internals).
//
// The input's first line is taken as a header (as `catpool check` does), the rest as
// records; a crash, a trap (overflow, bounds) or an ASan report is a finding.

let defaultHeader = "event_time,record_type,imsi,imei,msisdn,peer,duration_s,cell"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let cells = CellInterner(expectedCount: 16, limit: 64)
    var parser: CallRecordParser?
    var record = CallRecord.placeholder
    var start = 0
    for index in 0...size where index == size || bytes[index] == 0x0A {
        let line = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        start = index + 1
        if var current = parser {
            _ = current.parse(line, cells: cells, into: &record)
            parser = current
        } else if let layout = try? ColumnLayout(header: line, delimiter: nil) {
            parser = CallRecordParser(layout: layout)
        } else if let layout = try? ColumnLayout(header: defaultHeader, delimiter: nil) {
            // Not a header: the contract's default columns, and this line is a record.
            var current = CallRecordParser(layout: layout)
            _ = current.parse(line, cells: cells, into: &record)
            parser = current
        }
    }
    // Every time form on its own, too.
    var timestamps = TimestampParser(naiveOffsetSeconds: 3600)
    _ = timestamps.parse(bytes)
    _ = PhoneNumber(numberOrSender: bytes)
    _ = IMEI(digits: bytes)
    return 0
}
