import CDRSimulation
import CSupport
import Testing

@testable import CDRRecords

struct IdentifiersTests {
    @Test func keepsLeadingZerosOfIMSIs() throws {
        let padded = try #require(IMSI("001010000000001"))
        #expect(padded.description == "001010000000001")
        #expect(padded != IMSI("1010000000001"))
    }

    @Test(arguments: ["86753001234567", "867530012345678", "8675300123456701"])
    func printsIMEIsWithARecomputedLuhnDigit(text: String) throws {
        // Luhn over 86753001234567 sums to 48, so the check digit is 2.
        #expect(try #require(IMEI(text)).description == "867530012345672")
    }

    @Test func printsKnownIMEIWithItsCheckDigit() throws {
        // 490154203237518 is the worked example of the Luhn check in GSMA TS.06.
        #expect(try #require(IMEI("49015420323751")).description == "490154203237518")
    }

    @Test func treatsPlusPrefixedNumbersAsTheSameNumber() {
        #expect(PhoneNumber("+8613800138000") == PhoneNumber("8613800138000"))
        #expect(PhoneNumber("8613800138000")?.description == "8613800138000")
    }

    @Test func hashesNonNumericSendersDistinctly() {
        let bank = Array("BANK".utf8).withUnsafeBytes { PhoneNumber(numberOrSender: $0) }
        let shop = Array("SHOP".utf8).withUnsafeBytes { PhoneNumber(numberOrSender: $0) }
        #expect(!bank.isNumeric && bank != shop)
        #expect(bank == Array("BANK".utf8).withUnsafeBytes { PhoneNumber(numberOrSender: $0) })
    }

    @Test func internsCellsDenselyInFirstSeenOrder() {
        let cells = CellInterner(expectedCount: 2)
        let names = (0..<10_000).map { "460-00-\($0 % 97)-\($0)" }
        let ids = names.map { cells.intern($0) }
        #expect(ids.map(\.rawValue) == (0..<10_000).map(UInt32.init))
        #expect(names.map { cells.intern($0) } == ids)
        #expect(cells.count == 10_000)
        #expect(cells.name(of: ids[4321]) == names[4321])
        #expect(cells.lookup("nope") == nil && cells.lookup(names[9]) == ids[9])
    }
}

struct IdentifierOrderTests {
    @Test func ordersIdentifiersAsTheirDigitStrings() throws {
        let texts = [
            "460001234567890", "46000123456789", "001010000000001", "460001234567891", "99999999",
            "4600012345678901",
        ]
        .filter { IMSI($0) != nil }
        let sorted = texts.compactMap { IMSI($0) }.sorted().map(\.description)
        #expect(sorted == texts.sorted())
        let numbers = ["8613800138000", "+861380013800", "95500", "1", "86139"]
        let sortedNumbers = numbers.compactMap { PhoneNumber($0) }.sorted().map(\.description)
        #expect(
            sortedNumbers
                == numbers.map { $0.hasPrefix("+") ? String($0.dropFirst()) : $0 }.sorted())
    }
}

/// The table-driven digit count and the packed order against the digit strings themselves,
/// on random strings of every length (leading zeros included).
struct PackedOrderTests {
    @Test func countsAndOrdersAsTheDigitStringsDo() {
        var generator = SystemRandomNumberGenerator()
        let strings = (0..<2_000).map { _ in
            String(
                (0..<Int.random(in: 1...18, using: &generator)).map { _ in
                    Character(String(Int.random(in: 0...9, using: &generator)))
                })
        }
        for text in strings {
            let packed = text.utf8.reduce(UInt64(1)) { $0 * 10 + UInt64($1 - 0x30) }
            #expect(PackedDigits.digitCount(packed) == text.count, "\(text)")
        }
        for (a, b) in zip(strings, strings.shuffled(using: &generator)) {
            let packedA = a.utf8.reduce(UInt64(1)) { $0 * 10 + UInt64($1 - 0x30) }
            let packedB = b.utf8.reduce(UInt64(1)) { $0 * 10 + UInt64($1 - 0x30) }
            #expect(
                PackedDigits.lexicographicallyPrecedes(packedA, packedB) == (a < b), "\(a) \(b)")
        }
    }
}

/// The word-at-a-time digit reader against the plain definition, on digits and on every
/// kind of byte that must stop it.
struct PackedDigitsTests {
    /// The definition: 1 to 18 ASCII digits (after an optional "+") behind a leading 1,
    /// else nothing.
    static func reference(_ bytes: [UInt8]) -> UInt64? {
        let bytes = bytes.first == 0x2B ? Array(bytes.dropFirst()) : bytes
        guard (1...18).contains(bytes.count), bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        return bytes.reduce(UInt64(1)) { $0 * 10 + UInt64($1 - 0x30) }
    }

    @Test func readsWhatTheDefinitionReadsAndRefusesTheRest() {
        // Digits mostly, and now and then a byte just outside "0"..."9" or far from it.
        let strays: [UInt8] = [0x00, 0x2F, 0x3A, 0x20, 0x2B, 0x7F, 0x80, 0xB0, 0xB9, 0xFF]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...20, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0x30...0x39, using: &generator) }
            if count > 0, Int.random(in: 0..<3, using: &generator) == 0 {
                bytes[Int.random(in: 0..<count, using: &generator)] = strays.randomElement(
                    using: &generator)!
            }
            let number = bytes.withUnsafeBytes { PhoneNumber(digits: $0) }
            #expect(number?.rawValue == Self.reference(bytes), "\(bytes)")
        }
    }
}

/// The one-load digit reader (`catpool_digits16`, SSE2 here) and its portable twin against
/// the definition, inside lines: any bytes before the number, numbers of 0 to 20 bytes that
/// end anywhere from the line's start on (where fewer than 16 bytes precede their end, the
/// word-at-a-time reader takes over), and strays at every position.
struct OneLoadDigitsTests {
    @Test func readsNumbersInLinesAsTheDefinitionDoes() {
        var random = SimulationRandom(seed: 41, stream: 9)
        let strays: [UInt8] = [0x00, 0x2F, 0x3A, 0x20, 0x2B, 0x2C, 0x7F, 0x80, 0xB0, 0xFF]
        let digits = Array("0123456789".utf8)
        for round in 0..<40_000 {
            let count = random.int(0..<21)
            let sample = FieldInLine(&random, count: count, symbols: digits, strays: strays)
            let expected = PackedDigitsTests.reference(sample.field)
            sample.withGuardedLine { field, start in
                #expect(
                    PhoneNumber(digits: field, readableFrom: start)?.rawValue == expected,
                    "round \(round): \(sample.line)")
                let imsi = IMSI(digits: field, readableFrom: start)
                #expect(
                    imsi?.rawValue == IMSI(digits: field)?.rawValue,
                    "round \(round): \(sample.line)")
                let imei = IMEI(digits: field, readableFrom: start)
                #expect(
                    imei?.rawValue == IMEI(digits: field)?.rawValue,
                    "round \(round): \(sample.line)")
                guard (1...16).contains(count), sample.prefix.count + count >= 16,
                    let end = field.baseAddress.map({ $0 + count })
                else { return }
                let twin = catpool_digits16_portable(end, Int32(count))
                #expect(
                    catpool_digits16(end, Int32(count)) == twin, "round \(round): \(sample.line)")
                let plain = sample.field.allSatisfy { $0 &- 0x30 < 10 }
                #expect(twin == (plain ? expected.map { $0 - PackedDigits.power(count) } : .max))
            }
        }
    }
}
