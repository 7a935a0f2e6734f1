/// Reads the `event_time` field in any of the five forms of the input contract.
///
/// | form | example | zone |
/// | --- | --- | --- |
/// | ISO 8601 extended | `2026-11-20T01:02:03Z`, `2026-11-20T09:02:03.250+08:00` | as written; none: naive |
/// | date and time with a space | `2026-11-20 01:02:03` (fraction and zone allowed as above) | naive unless written |
/// | compact | `20261120010203`, ISO basic `20261120T010203Z` | naive unless written |
/// | Unix seconds | `1763600523`, `1763600523.25` | UTC |
/// | Unix milliseconds | `1763600523250` | UTC |
///
/// A naive time (no zone) is read in `naiveOffsetSeconds` (UTC by default; `--timezone`).
/// A bare number of 1 to 11 digits is seconds, 12 or 13 digits milliseconds, 14 digits the
/// compact form. Offsets may be `Z`, `±hh`, `±hhmm` or `±hh:mm`; fractions may have any
/// number of digits (kept to the millisecond, truncated). Seconds may be 60 (a leap second
/// reads as the next minute). Instants before 1990 or from 2200 on are rejected: in a CDR
/// they are a broken field, not a date.
public struct TimestampParser: Sendable, Equatable {
    /// Offset east of UTC applied to naive times, in seconds.
    public var naiveOffsetSeconds: Int {
        didSet { lastField.count = 0 }  // the last time read may be naive
    }
    /// Whether a time without a zone has been read (a date-time form with no `Z` or offset;
    /// epoch numbers are not naive).
    public private(set) var hasReadNaiveTime = false

    /// The last calendar day read in the extended form, by its eight digits packed as they
    /// lie in the field: a dump's lines share a day for hours, so the day's validation and
    /// its day number are worked out once per day, not once per line.
    private var lastDayKey: UInt64 = 0
    private var lastDayNumber: Int64 = 0
    /// The last field of 16 to 24 bytes read, as three words (see `words`), and its time: in
    /// a dump ordered by time, a busy switch writes the same second on line after line.
    private var lastField = (count: 0, words: (UInt64(0), UInt64(0), UInt64(0)))
    private var lastTime = EventTime(millisecondsSinceEpoch: 0)

    public static func == (lhs: TimestampParser, rhs: TimestampParser) -> Bool {
        lhs.naiveOffsetSeconds == rhs.naiveOffsetSeconds
    }

    /// The earliest accepted instant, 1990-01-01T00:00:00Z.
    public static let earliest = EventTime(secondsSinceEpoch: 631_152_000)
    /// The first rejected instant, 2200-01-01T00:00:00Z.
    public static let latest = EventTime(secondsSinceEpoch: 7_258_118_400)

    public init(naiveOffsetSeconds: Int = 0) {
        self.naiveOffsetSeconds = naiveOffsetSeconds
    }

    /// Parses one field; returns `nil` when it is not a valid time in a supported form.
    public mutating func parse(_ field: UnsafeRawBufferPointer) -> EventTime? {
        let count = field.count
        guard count > 0 else { return nil }
        guard let words = Self.words(field) else { return parseAnew(field) }
        if count == lastField.count, words == lastField.words { return lastTime }
        guard let time = parseAnew(field) else { return nil }
        lastField = (count, words)
        lastTime = time
        return time
    }

    /// A field of 16 to 24 bytes as three words that are equal only for equal fields of one
    /// length: its first 16 bytes and its last 8 (which overlap the first for a short one).
    @inline(__always)
    private static func words(_ field: UnsafeRawBufferPointer) -> (UInt64, UInt64, UInt64)? {
        guard field.count >= 16, field.count <= 24, let base = field.baseAddress else { return nil }
        return (
            base.loadUnaligned(as: UInt64.self),
            base.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            base.loadUnaligned(fromByteOffset: field.count - 8, as: UInt64.self)
        )
    }

    private mutating func parseAnew(_ field: UnsafeRawBufferPointer) -> EventTime? {
        let count = field.count
        let result: EventTime?
        if count >= 19, field[4] == 0x2D {
            result = parseExtended(field)
        } else if count >= 15, field[8] == 0x54 || field[8] == 0x74 {
            result = parseBasic(field)
        } else {
            result = parseNumeric(field)
        }
        guard let time = result, time >= Self.earliest, time < Self.latest else { return nil }
        return time
    }

    // MARK: - Forms

    /// Reads `YYYY-MM-DD[T ]hh:mm:ss[.fff][zone]`.
    private mutating func parseExtended(_ f: UnsafeRawBufferPointer) -> EventTime? {
        guard f[7] == 0x2D, f[10] == 0x54 || f[10] == 0x20 || f[10] == 0x74, f[13] == 0x3A,
            f[16] == 0x3A, let base = f.baseAddress
        else { return nil }
        // YYYY, MM and DD: the eight bytes around the two dashes.
        let key =
            UInt64(base.loadUnaligned(as: UInt32.self))
            | UInt64(base.loadUnaligned(fromByteOffset: 5, as: UInt16.self)) << 32
            | UInt64(base.loadUnaligned(fromByteOffset: 8, as: UInt16.self)) << 48
        let days: Int64
        if key == lastDayKey, key != 0 {  // 0: nothing cached yet
            days = lastDayNumber
        } else {
            guard let year = digits(f, 0, 4), let month = digits(f, 5, 2),
                let day = digits(f, 8, 2), let number = Self.dayNumber(year, month, day)
            else { return nil }
            lastDayKey = key
            lastDayNumber = number
            days = number
        }
        // hh:mm:ss as one word (the colons were checked above): six digits in one test.
        let clock = base.loadUnaligned(fromByteOffset: 11, as: UInt64.self)
        let digits =
            ((clock & 0xFFFF_00FF_FF00_FFFF) | 0x0000_3000_0030_0000) &- 0x3030_3030_3030_3030
        guard (digits | (digits &+ 0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 == 0 else {
            return nil
        }
        @inline(__always) func pair(_ byte: UInt64) -> Int {
            Int(truncatingIfNeeded: (digits >> (byte * 8)) & 0xFF) * 10
                + Int(truncatingIfNeeded: (digits >> (byte * 8 + 8)) & 0xFF)
        }
        return assemble(f, from: 19, days: days, pair(0), pair(3), pair(6))
    }

    /// Days since 1970-01-01 of a valid calendar date, else `nil`.
    private static func dayNumber(_ year: Int, _ month: Int, _ day: Int) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(month, year: year)
        else { return nil }
        return CivilDate(year: year, month: month, day: day).daysSinceEpoch
    }

    /// Reads `YYYYMMDDThhmmss[.fff][zone]`.
    private mutating func parseBasic(_ f: UnsafeRawBufferPointer) -> EventTime? {
        guard let year = digits(f, 0, 4), let month = digits(f, 4, 2), let day = digits(f, 6, 2),
            let hour = digits(f, 9, 2), let minute = digits(f, 11, 2), let second = digits(f, 13, 2)
        else { return nil }
        return assemble(f, from: 15, year, month, day, hour, minute, second)
    }

    /// Epoch seconds (with an optional fraction), epoch milliseconds, or compact.
    private mutating func parseNumeric(_ f: UnsafeRawBufferPointer) -> EventTime? {
        var index = 0
        var value: Int64 = 0
        while index < f.count, f[index] &- 0x30 < 10 {
            guard index < 18 else { return nil }
            value = value * 10 + Int64(f[index] &- 0x30)
            index += 1
        }
        let integerDigits = index
        guard integerDigits > 0 else { return nil }
        if integerDigits == f.count {
            switch integerDigits {
            case 1...11: return EventTime(secondsSinceEpoch: value)
            case 12, 13: return EventTime(millisecondsSinceEpoch: value)
            case 14:
                guard let year = digits(f, 0, 4), let month = digits(f, 4, 2),
                    let day = digits(f, 6, 2),
                    let hour = digits(f, 8, 2), let minute = digits(f, 10, 2),
                    let second = digits(f, 12, 2)
                else { return nil }
                return assemble(f, from: 14, year, month, day, hour, minute, second)
            default: return nil
            }
        }
        guard integerDigits <= 11, f[index] == 0x2E,
            let milliseconds = fractionMilliseconds(f, from: index + 1, to: f.count)
        else { return nil }
        return EventTime(millisecondsSinceEpoch: value * 1000 + Int64(milliseconds))
    }

    // MARK: - Pieces

    /// Validates the calendar fields, then reads an optional fraction and zone from `index`.
    private mutating func assemble(
        _ f: UnsafeRawBufferPointer, from start: Int,
        _ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int
    ) -> EventTime? {
        guard let days = Self.dayNumber(year, month, day) else { return nil }
        return assemble(f, from: start, days: days, hour, minute, second)
    }

    private mutating func assemble(
        _ f: UnsafeRawBufferPointer, from start: Int, days: Int64,
        _ hour: Int, _ minute: Int, _ second: Int
    ) -> EventTime? {
        guard hour < 24, minute < 60, second <= 60 else { return nil }
        var index = start
        var milliseconds = 0
        if index < f.count, f[index] == 0x2E || f[index] == 0x2C {
            var end = index + 1
            while end < f.count, f[end] &- 0x30 < 10 { end += 1 }
            guard let fraction = fractionMilliseconds(f, from: index + 1, to: end) else {
                return nil
            }
            milliseconds = fraction
            index = end
        }
        guard let offset = zoneOffsetSeconds(f, from: index) else { return nil }
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second - offset)
        return EventTime(millisecondsSinceEpoch: seconds * 1000 + Int64(milliseconds))
    }

    /// `Z`, `±hh`, `±hhmm`, `±hh:mm`, or nothing (the naive offset); must end the field.
    private mutating func zoneOffsetSeconds(_ f: UnsafeRawBufferPointer, from index: Int) -> Int? {
        let rest = f.count - index
        if rest == 0 {
            hasReadNaiveTime = true
            return naiveOffsetSeconds
        }
        let sign = f[index]
        if rest == 1, sign == 0x5A || sign == 0x7A { return 0 }
        guard sign == 0x2B || sign == 0x2D, let hours = digits(f, index + 1, 2) else { return nil }
        var minutes = 0
        switch rest {
        case 3: break
        case 5: guard let value = digits(f, index + 3, 2) else { return nil }; minutes = value
        case 6:
            guard f[index + 3] == 0x3A, let value = digits(f, index + 4, 2) else { return nil }
            minutes = value
        default: return nil
        }
        guard hours <= 18, minutes < 60 else { return nil }
        let offset = hours * 3600 + minutes * 60
        return sign == 0x2D ? -offset : offset
    }

    /// The first three digits of a fraction as milliseconds; at least one digit required.
    private func fractionMilliseconds(_ f: UnsafeRawBufferPointer, from start: Int, to end: Int)
        -> Int?
    {
        guard end > start else { return nil }
        var milliseconds = 0
        var scale = 100
        for index in start..<end {
            let digit = f[index] &- 0x30
            guard digit < 10 else { return nil }
            milliseconds += Int(digit) * scale
            scale /= 10
        }
        return milliseconds
    }

    @inline(__always)
    private func digits(_ f: UnsafeRawBufferPointer, _ start: Int, _ count: Int) -> Int? {
        guard start + count <= f.count else { return nil }
        var value = 0
        for index in start..<(start + count) {
            let digit = f[index] &- 0x30
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }
}
