import CDRRecords

/// Writes records as CDR lines in a chosen layout: the inverse of `CallRecordParser`.
///
/// `CDRSimulation` makes synthetic CDR traffic: the simulator's population and devices
/// produce records, this writer turns them into the bytes of a dump, in any column order,
/// with extra columns, any time form of the input contract, and either line end. It writes
/// bytes straight into a buffer: no `String` per field, so a simulated city's day is written
/// in seconds.
public struct CDRLineWriter: Sendable {
    /// How `event_time` is written.
    public enum TimeFormat: String, CaseIterable, Sendable {
        /// `2026-11-20T01:02:03Z`, milliseconds only when not zero.
        case iso8601 = "iso"
        /// `2026-11-20T09:02:03+08:00`, in the writer's local offset.
        case iso8601Offset = "iso-offset"
        /// `2026-11-20 09:02:03`, naive, in the writer's local offset.
        case spaceSeparated = "space"
        /// `20261120090203`, naive, in the writer's local offset.
        case compact = "compact"
        /// `1795136523`.
        case epochSeconds = "epoch"
        /// `1795136523250`.
        case epochMilliseconds = "epoch-ms"
    }

    /// A column of the written file: a field of the contract, or an extra column the reader
    /// must ignore, filled with `value`.
    public enum Column: Sendable, Equatable {
        case field(ColumnLayout.Field)
        case extra(name: String, value: String)

        public var name: String {
            switch self {
            case .field(let field): return field.name
            case .extra(let name, _): return name
            }
        }
    }

    public let columns: [Column]
    public let timeFormat: TimeFormat
    /// Offset east of UTC for the local and naive forms, in seconds.
    public let localOffsetSeconds: Int
    public let delimiter: UInt8
    public let lineEnding: [UInt8]

    /// The contract's default columns in its order.
    public static let defaultColumns: [Column] = ColumnLayout.Field.allCases.map { .field($0) }

    public init(
        columns: [Column] = CDRLineWriter.defaultColumns, timeFormat: TimeFormat = .iso8601,
        localOffsetSeconds: Int = 0, delimiter: UInt8 = 0x2C, crlf: Bool = false
    ) {
        self.columns = columns
        self.timeFormat = timeFormat
        self.localOffsetSeconds = localOffsetSeconds
        self.delimiter = delimiter
        lineEnding = crlf ? [0x0D, 0x0A] : [0x0A]
    }

    /// Appends the header line.
    public func writeHeader(into bytes: inout [UInt8]) {
        for (index, column) in columns.enumerated() {
            if index > 0 { bytes.append(delimiter) }
            bytes.append(contentsOf: column.name.utf8)
        }
        bytes.append(contentsOf: lineEnding)
    }

    /// Appends one record as a line.
    ///
    /// - Parameters:
    ///   - record: the record; absent optional fields are written empty.
    ///   - cellName: the bytes of the record's cell token.
    ///   - bytes: the buffer to append to.
    public func write(_ record: CallRecord, cellName: [UInt8], into bytes: inout [UInt8]) {
        for (index, column) in columns.enumerated() {
            if index > 0 { bytes.append(delimiter) }
            switch column {
            case .extra(_, let value): bytes.append(contentsOf: value.utf8)
            case .field(let field):
                switch field {
                case .eventTime: writeTime(record.eventTime, into: &bytes)
                case .recordType: bytes.append(contentsOf: record.type.description.utf8)
                case .imsi: record.imsi.write(into: &bytes)
                case .imei: record.imei?.write(into: &bytes)
                case .msisdn: record.msisdn?.write(into: &bytes)
                case .peer: record.peer?.write(into: &bytes)
                case .duration:
                    if let seconds = record.durationSeconds {
                        appendDecimal(Int64(seconds), &bytes)
                    }
                case .cell: bytes.append(contentsOf: cellName)
                }
            }
        }
        bytes.append(contentsOf: lineEnding)
    }

    // MARK: - Time

    private func writeTime(_ time: EventTime, into bytes: inout [UInt8]) {
        let milliseconds = time.millisecondsSinceEpoch
        switch timeFormat {
        case .iso8601:
            time.writeISO8601(into: &bytes)
        case .epochSeconds:
            appendDecimal(floorDivide(milliseconds, 1000), &bytes)
        case .epochMilliseconds:
            appendDecimal(milliseconds, &bytes)
        case .iso8601Offset, .spaceSeparated, .compact:
            let local = EventTime(
                millisecondsSinceEpoch: floorDivide(milliseconds, 1000) * 1000 + Int64(
                    localOffsetSeconds) * 1000)
            var iso: [UInt8] = []
            local.writeISO8601(into: &iso)  // YYYY-MM-DDThh:mm:ssZ
            let wall = iso[0..<19]
            switch timeFormat {
            case .compact:
                bytes.append(contentsOf: wall.filter { $0 &- 0x30 < 10 })
            case .spaceSeparated:
                bytes.append(contentsOf: wall.map { $0 == 0x54 ? 0x20 : $0 })
            default:
                bytes.append(contentsOf: wall)
                let offset = abs(localOffsetSeconds)
                bytes.append(localOffsetSeconds < 0 ? 0x2D : 0x2B)
                appendTwoDigits(offset / 3600, &bytes)
                bytes.append(0x3A)
                appendTwoDigits(offset / 60 % 60, &bytes)
            }
        }
    }

    private func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }

    private func appendTwoDigits(_ value: Int, _ bytes: inout [UInt8]) {
        bytes.append(UInt8(0x30 + value / 10))
        bytes.append(UInt8(0x30 + value % 10))
    }
}

/// Appends the decimal digits of `value` (with `-` when negative).
func appendDecimal(_ value: Int64, _ bytes: inout [UInt8]) {
    if value < 0 { bytes.append(0x2D) }
    var magnitude = value.magnitude
    var digits:
        (
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
        ) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0
    withUnsafeMutableBytes(of: &digits) { storage in
        repeat {
            storage[count] = UInt8(0x30 + magnitude % 10)
            magnitude /= 10
            count += 1
        } while magnitude > 0
        for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(storage[index]) }
    }
}
