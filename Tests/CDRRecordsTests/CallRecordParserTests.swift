import CDRRecords
import Testing

struct CallRecordParserTests {
    static let header = "event_time,record_type,imsi,imei,msisdn,peer,duration_s,cell"
    static let good =
        "2026-11-20T01:02:03Z,MOC,460001234567890,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345"

    /// One row per rejected line: the line and the reason it must be rejected for.
    static let rejectedLines: [(String, RejectReason)] = [
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,867530012345678,8613800138000,8613912345678,37",
            .fieldCount
        ),
        (good + ",extra", .fieldCount),
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,\"86753,8613800138000,8613912345678,37,460-00-4521-12345",
            .badQuoting
        ),
        (
            "2026-11-20T01:02:03Z,MOC,\"4600\"x,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345",
            .badQuoting
        ),
        (
            ",MOC,460001234567890,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345",
            .missingField
        ),
        (
            "2026-11-20T01:02:03Z,,460001234567890,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345",
            .missingField
        ),
        (
            "2026-11-20T01:02:03Z,MOC,,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345",
            .missingField
        ),
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,867530012345678,8613800138000,8613912345678,37,",
            .missingField
        ),
        (
            "2026-11-20T25:02:03Z,MOC,460001234567890,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345",
            .badTime
        ),
        (
            "yesterday,MOC,460001234567890,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345",
            .badTime
        ),
        (
            "2026-11-20T01:02:03Z,MOC,46000123456789X,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345",
            .badIMSI
        ),
        (
            "2026-11-20T01:02:03Z,MOC,46000,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345",
            .badIMSI
        ),
        (
            "2026-11-20T01:02:03Z,MOC,4600012345678901,867530012345678,8613800138000,8613912345678,37,460-00-4521-12345",
            .badIMSI
        ),
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,8675300123,8613800138000,8613912345678,37,460-00-4521-12345",
            .badIMEI
        ),
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,86753001234567A,8613800138000,8613912345678,37,460-00-4521-12345",
            .badIMEI
        ),
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,867530012345678,86138-0013,8613912345678,37,460-00-4521-12345",
            .badMSISDN
        ),
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,867530012345678,8613800138000,"
                + String(repeating: "A", count: 33) + ",37,460-00-4521-12345", .badPeer
        ),
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,867530012345678,8613800138000,8613912345678,-1,460-00-4521-12345",
            .badDuration
        ),
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,867530012345678,8613800138000,8613912345678,3.x,460-00-4521-12345",
            .badDuration
        ),
        (
            "2026-11-20T01:02:03Z,MOC,460001234567890,867530012345678,8613800138000,8613912345678,37,"
                + String(repeating: "c", count: 129), .badCell
        ),
    ]

    @Test(arguments: rejectedLines)
    func rejectsEachMalformedLineWithItsReason(line: String, reason: RejectReason) throws {
        let outcome = try parse(line)
        guard case .rejected(let error) = outcome else {
            Issue.record("expected \(reason.rawValue), got \(outcome)")
            return
        }
        #expect(error.reason == reason)
        #expect(!error.description.isEmpty)
    }

    @Test func everyReasonTheParserCanGiveHasARow() {
        let covered = Set(Self.rejectedLines.map(\.1))
        // line_too_long and truncated_input come from the line splitter and the decoder.
        let parserReasons = Set(RejectReason.allCases).subtracting([.lineTooLong, .truncatedInput])
        #expect(covered == parserReasons)
    }

    @Test func readsAGoodLineIntoPackedFields() throws {
        let cells = CellInterner()
        var record = CallRecord.placeholder
        let outcome = try parse(Self.good, cells: cells, into: &record)
        #expect(outcome == .record)
        #expect(record.eventTime == EventTime(millisecondsSinceEpoch: 1_795_136_523_000))
        #expect(record.type == .moc)
        #expect(record.imsi == IMSI("460001234567890"))
        #expect(record.imei == IMEI("86753001234567"))
        #expect(record.msisdn == PhoneNumber("8613800138000"))
        #expect(record.peer == PhoneNumber("8613912345678"))
        #expect(record.durationSeconds == 37)
        #expect(cells.name(of: record.cell) == "460-00-4521-12345")
    }

    /// A record is 56 bytes (raw values stand for its optional fields), and every optional
    /// field reads back as it was set, `nil` included.
    @Test func keepsOptionalFieldsInFiftySixBytes() throws {
        #expect(MemoryLayout<CallRecord>.stride == 56)
        var record = CallRecord.placeholder
        #expect(record.imei == nil && record.msisdn == nil && record.peer == nil)
        #expect(record.durationSeconds == nil)
        record.imei = IMEI("86753001234567")
        record.msisdn = PhoneNumber("8613800138000")
        record.peer = PhoneNumber("8613912345678")
        record.durationSeconds = 0
        #expect(record.imei == IMEI("86753001234567"))
        #expect(record.msisdn == PhoneNumber("8613800138000"))
        #expect(record.peer == PhoneNumber("8613912345678"))
        #expect(record.durationSeconds == 0)
        record.imei = nil
        record.durationSeconds = nil
        #expect(record.imei == nil && record.durationSeconds == nil)
    }

    static let acceptedVariants: [(String, String)] = [
        ("optional fields empty", "2026-11-20T01:02:03Z,MTC,460001234567890,,,,,460-00-4521-12345"),
        ("lower-case type", "2026-11-20T01:02:03Z,moc,460001234567890,,,,,460-00-4521-12345"),
        (
            "quoted fields",
            "\"2026-11-20T01:02:03Z\",\"MOC\",\"460001234567890\",\"\",\"\",\"\",\"\",\"460-00,4521\""
        ),
        (
            "spaces around fields",
            " 2026-11-20T01:02:03Z , MOC ,460001234567890 ,,,,,460-00-4521-12345"
        ),
        (
            "plus on numbers",
            "2026-11-20T01:02:03Z,MOC,460001234567890,,+8613800138000,+8613912345678,0,c1"
        ),
        ("IMEISV", "2026-11-20T01:02:03Z,MOC,460001234567890,8675300123456701,,,,c1"),
        ("all-zero IMEI", "2026-11-20T01:02:03Z,MOC,460001234567890,000000000000000,,,,c1"),
        ("zero IMEI", "2026-11-20T01:02:03Z,MOC,460001234567890,0,,,,c1"),
        ("alphanumeric sender", "2026-11-20T01:02:03Z,SMS_MT,460001234567890,,,BANK-ALERT,,c1"),
        ("quote inside a field", "2026-11-20T01:02:03Z,SMS_MT,460001234567890,,,BANK\"1,,c1"),
        ("fractional duration", "2026-11-20T01:02:03Z,MOC,460001234567890,,,,12.7,c1"),
        ("six-digit IMSI", "2026-11-20T01:02:03Z,DATA,001010,,,,,c1"),
    ]

    @Test(arguments: acceptedVariants)
    func acceptsVariantsOfAGoodLine(name: String, line: String) throws {
        var record = CallRecord.placeholder
        #expect(try parse(line, into: &record) == .record, "\(name)")
    }

    @Test func keepsIMEIAndIMEISVOfOneHandsetEqual() throws {
        var withCheckDigit = CallRecord.placeholder
        var withVersion = CallRecord.placeholder
        _ = try parse(
            "2026-11-20T01:02:03Z,MOC,460001234567890,867530012345678,,,,c1", into: &withCheckDigit)
        _ = try parse(
            "2026-11-20T01:02:03Z,MOC,460001234567890,8675300123456701,,,,c1", into: &withVersion)
        #expect(withCheckDigit.imei == withVersion.imei)
        #expect(withCheckDigit.imei?.tac == 86_753_001 && withCheckDigit.imei?.serial == 234_567)
    }

    @Test func skipsOtherRecordTypesWithoutCheckingTheirFields() throws {
        #expect(try parse("2026-11-20T01:02:03Z,USSD,,,,,,") == .otherType)
        #expect(try parse("garbage,LOCATION_UPDATE,x,y,z,,,") == .otherType)
    }

    @Test func readsColumnsInAnyOrderWithExtraColumns() throws {
        let layout = try ColumnLayout(
            header: "CELL;Operator;Duration_S;IMSI;Record_Type;Event_Time;zone", delimiter: nil)
        #expect(layout.delimiter == UInt8(ascii: ";"))
        var parser = CallRecordParser(layout: layout)
        let cells = CellInterner()
        var record = CallRecord.placeholder
        let outcome = Array("c-9;acme;12;460001234567890;SMS_MO;20261120010203;+8".utf8)
            .withUnsafeBytes {
                parser.parse($0, cells: cells, into: &record)
            }
        #expect(outcome == .record)
        #expect(
            record.type == .smsMO && record.durationSeconds == 12
                && cells.name(of: record.cell) == "c-9")
    }

    @Test func readsRenamedColumns() throws {
        let layout = try ColumnLayout(
            columnNames: ["served_imsi", "start", "kind", "ci"], delimiter: 0x7C,
            renames: [.imsi: "served_imsi", .eventTime: "start", .recordType: "kind", .cell: "ci"])
        #expect(layout.fieldByColumn == [.imsi, .eventTime, .recordType, .cell])
    }

    @Test func refusesAHeaderWithoutRequiredColumns() {
        #expect(
            throws: HeaderError.missingColumns(
                ["imsi", "cell"], found: ["event_time", "record_type", "peer"])
        ) {
            try ColumnLayout(header: "event_time,record_type,peer", delimiter: nil)
        }
        #expect(throws: HeaderError.duplicateColumn("imsi")) {
            try ColumnLayout(header: "event_time,record_type,imsi,IMSI,cell", delimiter: nil)
        }
    }

    @Test func refusesARenameToAColumnTheHeaderLacks() {
        // Even for an optional field: ignoring it would read every IMEI as absent.
        #expect(
            throws: HeaderError.renamedColumnMissing(
                field: "imei", column: "NOPE",
                found: ["event_time", "record_type", "imsi", "cell"])
        ) {
            try ColumnLayout(
                header: "event_time,record_type,imsi,cell", delimiter: nil, renames: [.imei: "NOPE"]
            )
        }
    }

    private func parse(_ line: String) throws -> CallRecordParser.Outcome {
        var record = CallRecord.placeholder
        return try parse(line, into: &record)
    }

    private func parse(
        _ line: String, cells: CellInterner = CellInterner(), into record: inout CallRecord
    ) throws -> CallRecordParser.Outcome {
        let layout = try ColumnLayout(header: Self.header, delimiter: nil)
        var parser = CallRecordParser(layout: layout)
        return Array(line.utf8).withUnsafeBytes { parser.parse($0, cells: cells, into: &record) }
    }
}
