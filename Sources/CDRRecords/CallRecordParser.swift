internal import CSupport
import Glibc

/// Reads one CDR line of bytes into a `CallRecord`, by the columns of a `ColumnLayout`.
///
/// `CDRRecords` knows the input contract (`docs/input.md`) and nothing about
/// streams or detection: `CDRInput` hands it lines, `CDRPipeline` counts what it returns.
///
/// The parser works on bytes: it splits the line once, remembering where each mapped field
/// lies, then reads each field in place. Parsing a good line allocates nothing; only a
/// rejected line builds a message. Rules:
/// - The line must have exactly as many fields as its header.
/// - A field may be wrapped in double quotes; the delimiter may then occur inside it. A
///   doubled quote inside a quoted field is kept as two bytes (no field we read can hold one).
/// - Spaces around a field are ignored.
/// - A `record_type` other than the five known ones (or a value `typeAliases` maps to one)
///   makes the line `.otherType`, which is counted and skipped without checking its other
///   fields: switches emit supplementary records (USSD, location updates) that need not
///   follow the voice contract.
/// - `imei`, `msisdn`, `peer` and `duration_s` may be empty; an all-zero IMEI is unknown.
public struct CallRecordParser: Sendable {
    /// The longest cell token accepted, in bytes.
    public static let maxCellBytes = 128
    /// The longest non-numeric peer accepted, in bytes.
    public static let maxPeerBytes = 32

    /// What a line turned out to be.
    public enum Outcome: Equatable, Sendable {
        /// A record was written to the `record` argument.
        case record
        /// A valid line of a record type we do not use.
        case otherType
        /// The line cannot be read.
        case rejected(RecordError)
    }

    public let layout: ColumnLayout
    public private(set) var timestamps: TimestampParser
    /// Other `record_type` values read as one of the five (`--map-type VALUE=TYPE`): each
    /// value upper-cased, consulted only when a value is not one of the five names.
    public let typeAliases: [(value: [UInt8], type: RecordType)]
    /// For each column, the raw value of its field, or `ignored`.
    private let roles: [UInt8]
    static let ignored: UInt8 = .max
    private static let fieldCount = ColumnLayout.Field.allCases.count

    public init(
        layout: ColumnLayout, timestamps: TimestampParser = TimestampParser(),
        typeAliases: [(value: [UInt8], type: RecordType)] = []
    ) {
        self.layout = layout
        self.timestamps = timestamps
        self.typeAliases = typeAliases.map { (Array($0.value.map(Self.upperCased)), $0.type) }
        roles = layout.fieldByColumn.map { $0.map { UInt8($0.rawValue) } ?? Self.ignored }
    }

    /// Parses `line` (without its line end) into `record`.
    ///
    /// - Parameters:
    ///   - line: the line's bytes.
    ///   - cells: interns the cell token.
    ///   - record: overwritten when the outcome is `.record`; untouched otherwise.
    public mutating func parse(
        _ line: UnsafeRawBufferPointer, cells: CellInterner, into record: inout CallRecord
    ) -> Outcome {
        parse(line, interning: cells, queueing: nil, into: &record)
    }

    /// Parses `line` into `record`, queueing the cell token (the record's `cell` is its place
    /// in `queue` until the queue is resolved).
    public mutating func parse(
        _ line: UnsafeRawBufferPointer, cellsTo queue: CellQueue, into record: inout CallRecord
    ) -> Outcome {
        parse(line, interning: nil, queueing: queue, into: &record)
    }

    /// Parses `line` into `record` without looking its cell up (the record's `cell` is 0).
    public mutating func parse(
        _ line: UnsafeRawBufferPointer, cellsTo ignored: IgnoredCells, into record: inout CallRecord
    ) -> Outcome {
        parse(line, interning: nil, queueing: nil, into: &record)
    }

    /// The one parser behind the three: the cell token is interned in `cells`, queued in
    /// `queue`, or (both `nil`) not looked up. (Not generic over where the token goes: the
    /// specialised generic copied the parser, arrays and all, for every line.)
    private mutating func parse(
        _ line: UnsafeRawBufferPointer, interning cells: CellInterner?, queueing queue: CellQueue?,
        into record: inout CallRecord
    ) -> Outcome {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * Self.fieldCount) { bounds in
            // bounds[2f], bounds[2f+1]: start and end of field f; -1 when it has no column.
            bounds.initialize(repeating: -1)
            // Static, given what it reads: as a method it was handed a copy of the whole
            // parser, 14 instructions a line.
            let split = Self.split(line, delimiter: layout.delimiter, roles: roles, into: bounds)
            if let error = split.error { return .rejected(error) }
            return read(
                line, bounds: bounds, trims: split.hasSpaces, cells: cells, queue: queue,
                into: &record)
        }
    }

    /// The type `--map-type` gives `field`, compared case-insensitively; allocates nothing.
    private func alias(of field: UnsafeRawBufferPointer) -> RecordType? {
        for alias in typeAliases where alias.value.count == field.count {
            var index = 0
            while index < field.count, Self.upperCased(field[index]) == alias.value[index] {
                index += 1
            }
            if index == field.count { return alias.type }
        }
        return nil
    }

    @inline(__always)
    static func upperCased(_ byte: UInt8) -> UInt8 { byte &- 0x61 < 26 ? byte &- 0x20 : byte }

    // MARK: - Splitting

    private static func split(
        _ line: UnsafeRawBufferPointer, delimiter: UInt8, roles: [UInt8],
        into bounds: UnsafeMutableBufferPointer<Int>
    ) -> SplitResult {
        let end = line.count
        guard let base = line.baseAddress else {
            return SplitResult(
                error: roles.count == 1 ? nil : .fieldCount(expected: roles.count, found: 1),
                hasSpaces: false)
        }
        return roles.withUnsafeBufferPointer { roles -> SplitResult in
            if let result = Self.splitUnquoted(
                line, delimiter: delimiter, roles: roles, into: bounds)
            {
                return result
            }
            @inline(__always) func failed(_ error: RecordError) -> SplitResult {
                SplitResult(error: error, hasSpaces: true)
            }
            var position = 0
            var column = 0
            while true {
                var fieldStart = position
                var fieldEnd = position
                if position < end, base.load(fromByteOffset: position, as: UInt8.self) == 0x22 {
                    // Quoted: the field ends at a quote followed by the delimiter or the line end.
                    var cursor = position + 1
                    while true {
                        while cursor < end,
                            base.load(fromByteOffset: cursor, as: UInt8.self) != 0x22
                        { cursor += 1 }
                        guard cursor < end else { return failed(.badQuoting(column: column + 1)) }
                        if cursor + 1 < end,
                            base.load(fromByteOffset: cursor + 1, as: UInt8.self) == 0x22
                        {
                            cursor += 2
                            continue
                        }
                        break
                    }
                    fieldStart = position + 1
                    fieldEnd = cursor
                    position = cursor + 1
                    if position < end,
                        base.load(fromByteOffset: position, as: UInt8.self) != delimiter
                    {
                        return failed(.badQuoting(column: column + 1))
                    }
                } else {
                    fieldEnd = Self.delimiterIndex(
                        in: base, from: position, to: end, delimiter: delimiter)
                    position = fieldEnd
                }
                guard column < roles.count else {
                    return failed(
                        .fieldCount(expected: roles.count, found: Self.countFields(line, delimiter))
                    )
                }
                let role = Int(roles[column])
                if role != Int(Self.ignored) {
                    bounds[2 * role] = fieldStart
                    bounds[2 * role + 1] = fieldEnd
                }
                column += 1
                if position >= end { break }
                position += 1  // past the delimiter
            }
            // Quoted fields may hold spaces; trim them all.
            return column == roles.count
                ? SplitResult(error: nil, hasSpaces: true)
                : failed(.fieldCount(expected: roles.count, found: column))
        }
    }

    /// What a splitter found.
    struct SplitResult: Equatable {
        /// `nil` when the line has as many fields as its header.
        var error: RecordError?
        /// Whether some byte of the line is a space, so fields may need trimming: most
        /// exports have none, and then no field's ends are looked at twice.
        var hasSpaces: Bool
    }

    /// Splits a line with no quote in it, in one pass of word-wide masks.
    ///
    /// Every delimiter of a 16-byte block (SSE2) or 8-byte word is found by its bit, without a
    /// loop per field (CDR exports rarely quote), and the same pass notes, in one compare,
    /// whether a quote or a space is anywhere; only then is the line searched again to tell
    /// which (a compare per block fewer than looking for each: 3 % of the splitter).
    /// Returns `nil` when the line holds a quote, for the general splitter to handle: it alone
    /// knows that only a quote opening a field quotes it; and when the line has more fields
    /// than the header, for it to count them. (Internal for its differential test.)
    @inline(__always)
    static func splitUnquoted(
        _ line: UnsafeRawBufferPointer, delimiter: UInt8, roles: UnsafeBufferPointer<UInt8>,
        into bounds: UnsafeMutableBufferPointer<Int>
    ) -> SplitResult? {
        guard let base = line.baseAddress else { return nil }
        let end = line.count
        let columns = roles.count
        let delimiters = UInt64(delimiter) &* 0x0101_0101_0101_0101
        let quoteBytes: UInt64 = 0x2222_2222_2222_2222
        let twos: UInt64 = 0x0202_0202_0202_0202
        var column = 0
        var fieldStart = 0
        var index = 0
        // Bits of quotes or spaces seen, only ever tested against zero.
        var quotesOrSpaces: UInt64 = 0
        // Plain locals and an early exit, not a closure over them: the loop keeps them in
        // registers (40 instructions a line fewer than with a nested function).
        @inline(__always) func isFull() -> Bool { column == columns }
        @inline(__always) func field(endingAt fieldEnd: Int) {
            let role = Int(roles[column])
            if role != Int(Self.ignored) {
                bounds[2 &* role] = fieldStart
                bounds[2 &* role &+ 1] = fieldEnd
            }
            column &+= 1
            fieldStart = fieldEnd &+ 1
        }
        while index &+ 16 <= end {
            var found = catpool_match16(base + index, delimiter)
            quotesOrSpaces |= UInt64(catpool_quote_or_space16(base + index))
            while found != 0 {
                if isFull() { return nil }
                field(endingAt: index &+ found.trailingZeroBitCount)
                found &= found &- 1
            }
            index &+= 16
        }
        if index < end, end >= 16 {
            // The last 1...15 bytes: the block that ends the line, less the bytes seen.
            let last = end &- 16
            let seen = UInt32(truncatingIfNeeded: index &- last)
            var found = catpool_match16(base + last, delimiter) &>> seen
            quotesOrSpaces |= UInt64(catpool_quote_or_space16(base + last) &>> seen)
            while found != 0 {
                if isFull() { return nil }
                field(endingAt: index &+ found.trailingZeroBitCount)
                found &= found &- 1
            }
            index = end
        }
        // Lines shorter than a block: words, then bytes.
        while index &+ 8 <= end {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            quotesOrSpaces |= zeroBytes((word | twos) ^ quoteBytes)
            var found = zeroBytes(word ^ delimiters)
            while found != 0 {
                if isFull() { return nil }
                field(endingAt: index &+ found.trailingZeroBitCount >> 3)
                found &= found &- 1
            }
            index &+= 8
        }
        while index < end {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            if byte == delimiter {
                if isFull() { return nil }
                field(endingAt: index)
            }
            if byte | 2 == 0x22 { quotesOrSpaces = 1 }
            index &+= 1
        }
        if isFull() { return nil }
        var hasSpaces = false
        if quotesOrSpaces != 0 {
            if memchr(base, 0x22, end) != nil { return nil }
            hasSpaces = true
        }
        field(endingAt: end)
        return SplitResult(
            error: column == columns ? nil : .fieldCount(expected: columns, found: column),
            hasSpaces: hasSpaces)
    }

    /// The top bit of each byte of `word` that is zero, and no other bit (exact, unlike the
    /// quicker test that may also flag the byte after a zero).
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((word & low) &+ low) | word | low)
    }

    /// The index of the first `delimiter` in `base[start..<end]`, or `end`.
    ///
    /// Reads eight bytes at a time (SWAR): a byte of `word ^ pattern` is zero exactly where
    /// the delimiter is, and the classic has-zero-byte test finds the first such byte.
    @inline(__always)
    static func delimiterIndex(
        in base: UnsafeRawPointer, from start: Int, to end: Int, delimiter: UInt8
    ) -> Int {
        let pattern = UInt64(delimiter) &* 0x0101_0101_0101_0101
        var index = start
        while index + 8 <= end {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ pattern
            let zeros = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
            if zeros != 0 { return index + (zeros.trailingZeroBitCount >> 3) }
            index += 8
        }
        while index < end, base.load(fromByteOffset: index, as: UInt8.self) != delimiter {
            index += 1
        }
        return index
    }

    private static func countFields(_ line: UnsafeRawBufferPointer, _ delimiter: UInt8) -> Int {
        // The splitters' rule: only a quote opening a field quotes it (until a quote not
        // doubled); a quote elsewhere is a plain byte.
        var count = 1
        var isQuoted = false
        var isFieldStart = true
        var index = 0
        while index < line.count {
            let byte = line[index]
            index += 1
            if isQuoted {
                guard byte == 0x22 else { continue }
                if index < line.count, line[index] == 0x22 {
                    index += 1
                } else {
                    isQuoted = false
                }
            } else if byte == delimiter {
                count += 1
                isFieldStart = true
                continue
            } else if byte == 0x22, isFieldStart {
                isQuoted = true
            }
            isFieldStart = false
        }
        return count
    }

    // MARK: - Reading fields

    /// Reads the fields `split` found.
    ///
    /// - Parameter trims: the line holds a space somewhere, so spaces around fields are
    ///   looked for and dropped.
    private mutating func read(
        _ line: UnsafeRawBufferPointer, bounds: UnsafeMutableBufferPointer<Int>, trims: Bool,
        cells: CellInterner?, queue: CellQueue?,
        into record: inout CallRecord
    ) -> Outcome {
        @inline(__always) func field(_ field: ColumnLayout.Field) -> UnsafeRawBufferPointer {
            var start = bounds[2 * field.rawValue]
            var end = bounds[2 * field.rawValue + 1]
            guard start >= 0, let base = line.baseAddress else {
                return UnsafeRawBufferPointer(start: nil, count: 0)
            }
            guard trims else {
                return UnsafeRawBufferPointer(start: base + start, count: end &- start)
            }
            // Spaces around a field are trimmed (bounds come from `split`: inside the line).
            while start < end, base.load(fromByteOffset: start, as: UInt8.self) == 0x20 {
                start &+= 1
            }
            while end > start, base.load(fromByteOffset: end &- 1, as: UInt8.self) == 0x20 {
                end &-= 1
            }
            return UnsafeRawBufferPointer(start: base + start, count: end &- start)
        }

        let typeField = field(.recordType)
        guard !typeField.isEmpty else { return .rejected(.missingField(.recordType)) }
        guard let type = RecordType(field: typeField) ?? alias(of: typeField) else {
            return .otherType
        }

        let timeField = field(.eventTime)
        guard !timeField.isEmpty else { return .rejected(.missingField(.eventTime)) }
        guard let time = timestamps.parse(timeField) else {
            return .rejected(.badTime(Self.excerpt(timeField)))
        }

        let imsiField = field(.imsi)
        guard !imsiField.isEmpty else { return .rejected(.missingField(.imsi)) }
        // The numbers are read in one 16-byte load each where the line holds 16 bytes up to
        // their end (all but a line's first field or two).
        let lineStart = line.baseAddress
        guard let imsi = IMSI(digits: imsiField, readableFrom: lineStart) else {
            return .rejected(.badIdentifier(.imsi, Self.excerpt(imsiField)))
        }

        let cellField = field(.cell)
        guard !cellField.isEmpty else { return .rejected(.missingField(.cell)) }
        guard cellField.count <= Self.maxCellBytes else {
            return .rejected(.badCell(Self.excerpt(cellField)))
        }

        var imei: IMEI?
        let imeiField = field(.imei)
        if !imeiField.isEmpty {
            if let value = IMEI(digits: imeiField, readableFrom: lineStart) {
                imei = value.isZero ? nil : value
            } else if !imeiField.allSatisfy({ $0 == 0x30 }) {
                return .rejected(.badIdentifier(.imei, Self.excerpt(imeiField)))
            }
        }

        var msisdn: PhoneNumber?
        let msisdnField = field(.msisdn)
        if !msisdnField.isEmpty {
            guard let value = PhoneNumber(digits: msisdnField, readableFrom: lineStart) else {
                return .rejected(.badIdentifier(.msisdn, Self.excerpt(msisdnField)))
            }
            msisdn = value
        }

        var peer: PhoneNumber?
        let peerField = field(.peer)
        if !peerField.isEmpty {
            guard peerField.count <= Self.maxPeerBytes else {
                return .rejected(.badIdentifier(.peer, Self.excerpt(peerField)))
            }
            peer = PhoneNumber(numberOrSender: peerField, readableFrom: lineStart)
        }

        var duration: Int32?
        let durationField = field(.duration)
        if !durationField.isEmpty {
            guard let seconds = Self.wholeSeconds(durationField) else {
                return .rejected(.badDuration(Self.excerpt(durationField)))
            }
            duration = seconds
        }

        // Optional chaining, not `if let`: a bound reference was retained and released for
        // every line.
        let cell =
            queue?.take(cellField, readableFrom: lineStart)
            ?? cells?.intern(cellField, readableFrom: lineStart) ?? CellID(rawValue: 0)
        record = CallRecord(
            eventTime: time, type: type, imsi: imsi, imei: imei, msisdn: msisdn, peer: peer,
            durationSeconds: duration,
            cell: cell)
        return .record
    }

    /// Whole seconds: digits, optionally followed by a fraction that is dropped; at most
    /// nine integer digits.
    @inline(__always)
    private static func wholeSeconds(_ field: UnsafeRawBufferPointer) -> Int32? {
        var value: Int32 = 0
        var index = 0
        while index < field.count, field[index] &- 0x30 < 10 {
            guard index < 9 else { return nil }
            value = value * 10 + Int32(field[index] &- 0x30)
            index += 1
        }
        guard index > 0 else { return nil }
        if index == field.count { return value }
        guard field[index] == 0x2E, index + 1 < field.count else { return nil }
        for position in (index + 1)..<field.count where field[position] &- 0x30 >= 10 { return nil }
        return value
    }

    /// The start of a field, for a message: at most 64 bytes.
    private static func excerpt(_ field: UnsafeRawBufferPointer) -> String {
        String(decoding: field.prefix(64), as: UTF8.self)
    }
}
