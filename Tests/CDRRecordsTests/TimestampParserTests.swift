import CDRRecords
import Testing

struct TimestampParserTests {
    /// The instant 2026-11-20T01:02:03Z.
    static let reference: Int64 = 1_795_136_523_000

    static let accepted: [(String, Int64)] = [
        ("2026-11-20T01:02:03Z", reference),
        ("2026-11-20t01:02:03z", reference),
        ("2026-11-20T01:02:03.250Z", reference + 250),
        ("2026-11-20T01:02:03,5Z", reference + 500),
        ("2026-11-20T01:02:03.123456789Z", reference + 123),
        ("2026-11-20T09:02:03+08:00", reference),
        ("2026-11-20T09:02:03+0800", reference),
        ("2026-11-20T09:02:03+08", reference),
        ("2026-11-19T20:32:03-04:30", reference),
        ("2026-11-20T01:02:03", reference),
        ("2026-11-20 01:02:03", reference),
        ("2026-11-20 01:02:03.7", reference + 700),
        ("2026-11-20 09:02:03+08:00", reference),
        ("20261120010203", reference),
        ("20261120T010203Z", reference),
        ("20261120T090203+0800", reference),
        ("1795136523", reference),
        ("1795136523.25", reference + 250),
        ("1795136523000", reference),
        ("1795136523999", reference + 999),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("2026-11-20T23:59:60Z", reference - 3_723_000 + 86_400_000),
    ]

    @Test(arguments: accepted)
    func readsEveryForm(text: String, milliseconds: Int64) {
        #expect(parse(text) == EventTime(millisecondsSinceEpoch: milliseconds))
    }

    static let rejected = [
        "", "x", "2026-11-20", "2026-13-20T01:02:03Z", "2026-11-31T01:02:03Z",
        "2025-02-29T00:00:00Z",
        "2026-11-20T24:00:00Z", "2026-11-20T01:60:00Z", "2026-11-20T01:02:03Q",
        "2026-11-20T01:02:03+8",
        "2026-11-20T01:02:03+08:0", "2026-11-20T01:02:03.Z", "2026-11-20X01:02:03Z",
        "2026/11/20 01:02:03",
        "2026-11-20T01:02:03Z ", "202611200102", "123456789012345", "1795136523.", "1795136523.x",
        "-1795136523", "1795136523,5", "0", "1989-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
        "99999999999",
    ]

    @Test(arguments: rejected)
    func rejectsMalformedAndOutOfRangeTimes(text: String) {
        #expect(parse(text) == nil)
    }

    @Test func readsNaiveTimesInTheConfiguredZone() {
        let shanghai = TimestampParser(naiveOffsetSeconds: 8 * 3600)
        #expect(
            parse("2026-11-20 09:02:03", shanghai)
                == EventTime(millisecondsSinceEpoch: Self.reference))
        #expect(
            parse("20261120090203", shanghai) == EventTime(millisecondsSinceEpoch: Self.reference))
        // An explicit zone and epoch numbers ignore the naive offset.
        #expect(
            parse("2026-11-20T01:02:03Z", shanghai)
                == EventTime(millisecondsSinceEpoch: Self.reference))
        #expect(parse("1795136523", shanghai) == EventTime(millisecondsSinceEpoch: Self.reference))
    }

    @Test(arguments: [
        Int64(0), 1, 951_782_400_000, 1_795_136_523_250, -86_400_001, 4_102_444_800_000,
    ])
    func formatsAndReadsBackTheSameInstant(milliseconds: Int64) {
        let time = EventTime(millisecondsSinceEpoch: milliseconds)
        let reread = TimestampParser().parse(Array(time.description.utf8))
        if time >= TimestampParser.earliest && time < TimestampParser.latest {
            #expect(reread == time)
        } else {
            #expect(reread == nil)
        }
    }

    @Test func printsISO8601WithMillisecondsOnlyWhenPresent() {
        #expect(
            EventTime(millisecondsSinceEpoch: Self.reference).description == "2026-11-20T01:02:03Z")
        #expect(
            EventTime(millisecondsSinceEpoch: Self.reference + 5).description
                == "2026-11-20T01:02:03.005Z")
        #expect(EventTime(millisecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999Z")
    }

    @Test func oneParserReadsASequenceAsFreshParsersDo() {
        // The day cache must never let a bad date through after a good one of the same
        // digits elsewhere, nor keep a day past its change.
        let fields = [
            "2026-11-20T01:02:03Z", "2026-11-20T23:59:60Z", "2026-11-21T00:00:00Z",
            "2026-11-20T01:02:03+08:00", "2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z",
            "2026-11-20T24:00:00Z", "2026-11-20 01:02:03", "2026-13-20T01:02:03Z",
            "2026-11-20T01:02:03Z", "\u{0}\u{0}\u{0}\u{0}-\u{0}\u{0}-\u{0}\u{0}T01:02:03Z",
            "2026-11-20x01:02:03Z", "1763600523", "2026-11-20T01:02:03.250Z",
        ]
        var shared = TimestampParser()
        for field in fields + fields.reversed() {
            let reused = Array(field.utf8).withUnsafeBytes { shared.parse($0) }
            #expect(reused == parse(field), "\(field)")
        }
    }

    /// The last-field cache on random runs of fields that differ in one byte (or are cut or
    /// invalid), repeated in a row as a busy switch writes them, with the naive offset changed
    /// now and then: one parser reads them all as fresh parsers do.
    @Test func oneParserReadsRunsOfAlikeFieldsAsFreshParsersDo() {
        let seeds = [
            "2026-11-20T01:02:03Z", "2026-11-20 01:02:03", "2026-11-20T01:02:03.250+08:00",
            "2026-11-20T01:02:03.25Z", "20261120T010203Z", "2026-11-20T01:02:03+0800",
        ]
        let bytes: [UInt8] = [0x30, 0x31, 0x35, 0x39, 0x3A, 0x2D, 0x20, 0x5A, 0x54, 0x00]
        var generator = SystemRandomNumberGenerator()
        var shared = TimestampParser()
        for _ in 0..<20_000 {
            if Int.random(in: 0..<500, using: &generator) == 0 {
                shared.naiveOffsetSeconds = Int.random(in: -12...12, using: &generator) * 3600
            }
            var field = Array(seeds.randomElement(using: &generator)!.utf8)
            if Bool.random(using: &generator) {
                field[Int.random(in: 0..<field.count, using: &generator)] = bytes.randomElement(
                    using: &generator)!
            }
            if Int.random(in: 0..<8, using: &generator) == 0 { field.removeLast() }
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let reused = field.withUnsafeBytes { shared.parse($0) }
                let fresh = TimestampParser(naiveOffsetSeconds: shared.naiveOffsetSeconds)
                #expect(reused == fresh.parse(field), "\(String(decoding: field, as: UTF8.self))")
            }
        }
    }

    /// The extended form's word-at-a-time clock against the basic form's digit-by-digit one,
    /// on random clocks: digits mostly, now and then a byte just outside "0"..."9" or far
    /// from it, and hours, minutes and seconds past their ranges.
    @Test func readsTheClockAsTheBasicFormDoes() {
        let strays: [UInt8] = [0x00, 0x2F, 0x3A, 0x20, 0x2B, 0x7F, 0x80, 0xB0, 0xFF]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var clock = (0..<6).map { _ in UInt8.random(in: 0x30...0x39, using: &generator) }
            if Bool.random(using: &generator) {
                clock[Int.random(in: 0..<6, using: &generator)] = strays.randomElement(
                    using: &generator)!
            }
            let pairs = [clock[0..<2], clock[2..<4], clock[4..<6]].map(Array.init)
            let extended = Array("2026-11-20T".utf8) + pairs.joined(separator: [0x3A]) + [0x5A]
            let basic = Array("20261120T".utf8) + clock + [0x5A]
            #expect(
                TimestampParser().parse(extended) == TimestampParser().parse(basic), "\(clock)")
        }
    }

    private func parse(_ text: String, _ parser: TimestampParser = TimestampParser()) -> EventTime?
    {
        parser.parse(Array(text.utf8))
    }
}

extension TimestampParser {
    /// Parses with a copy of the parser, so no test changes its caches (a copy keeps them: a
    /// fresh parser is `TimestampParser(naiveOffsetSeconds:)`).
    func parse(_ bytes: [UInt8]) -> EventTime? {
        var fresh = self
        return bytes.withUnsafeBytes { fresh.parse($0) }
    }
}
