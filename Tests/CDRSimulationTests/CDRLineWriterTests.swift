import CDRPipeline
import CDRRecords
import CDRSimulation
import CDRTestSupport
import Testing

struct CDRLineWriterTests {
    static func records(count: Int, seed: UInt64) -> [(CallRecord, String)] {
        var random = SimulationRandom(seed: seed)
        return (0..<count).map { index in
            let type = RecordType.allCases[index % RecordType.allCases.count]
            let imsi = IMSI("46000\(1_000_000_000 + Int(random.next() % 8_999_999_999))")
            let record = CallRecord(
                eventTime: EventTime(secondsSinceEpoch: 1_795_132_800 + Int64(index) * 7),
                type: type, imsi: imsi ?? IMSI("460001234567890")!,
                imei: index % 3 == 0 ? nil : IMEI(tac: 86_753_001, serial: index % 1_000_000),
                msisdn: PhoneNumber("86138\(10_000_000 + index)"),
                peer: type == .data ? nil : PhoneNumber("86139\(10_000_000 + index * 3)"),
                durationSeconds: type == .moc || type == .mtc ? Int32(index % 400) : nil,
                cell: CellID(rawValue: 0))
            return (record, "460-00-\(4500 + index % 7)-\(12_000 + index % 13)")
        }
    }

    @Test(arguments: CDRLineWriter.TimeFormat.allCases, [false, true])
    func writesLinesTheParserReadsBackExactly(format: CDRLineWriter.TimeFormat, crlf: Bool) throws {
        let columns: [CDRLineWriter.Column] = [
            .field(.cell), .extra(name: "switch", value: "MSC-7"), .field(.duration), .field(.peer),
            .field(.imsi), .field(.recordType), .field(.imei), .field(.eventTime), .field(.msisdn),
        ]
        let writer = CDRLineWriter(
            columns: columns, timeFormat: format, localOffsetSeconds: 8 * 3600, delimiter: 0x3B,
            crlf: crlf)
        var bytes: [UInt8] = []
        writer.writeHeader(into: &bytes)
        let originals = Self.records(count: 2000, seed: 9)
        for (record, cell) in originals {
            writer.write(record, cellName: Array(cell.utf8), into: &bytes)
        }

        let layout = try ColumnLayout(
            header: String(decoding: bytes.prefix { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self),
            delimiter: nil)
        #expect(layout.delimiter == 0x3B)
        var parser = CallRecordParser(
            layout: layout, timestamps: TimestampParser(naiveOffsetSeconds: 8 * 3600))
        let cells = CellInterner()
        var parsed: [(CallRecord, String)] = []
        // Split bytes, not a String: Swift reads "\r\n" as one Character.
        let lines = bytes.split(separator: 0x0A).dropFirst().map { line in
            Array(line.filter { $0 != 0x0D })
        }
        for line in lines {
            var record = CallRecord.placeholder
            let outcome = line.withUnsafeBytes { parser.parse($0, cells: cells, into: &record) }
            try #require(outcome == .record, "\(String(decoding: line, as: UTF8.self))")
            parsed.append((record, cells.name(of: record.cell)))
        }
        #expect(parsed.count == originals.count)
        for ((original, originalCell), (reread, rereadCell)) in zip(originals, parsed) {
            var expected = original
            expected.cell = reread.cell
            #expect(reread == expected)
            #expect(rereadCell == originalCell)
        }
    }
}
