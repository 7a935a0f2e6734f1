import CDRSimulation
import CSupport
import Testing

@testable import CDRRecords

/// The interner's two tables (packed digit tokens, hashed other tokens) against a
/// `Dictionary` of first appearances, over random operations.
struct CellInternerTests {
    /// A random token: mostly an operator's cell name, sometimes one that does not pack (a
    /// letter, or longer than 24 bytes), sometimes a near miss of another.
    static func token(_ random: inout SimulationRandom) -> String {
        let symbols = Array("0123456789-_:./")
        switch random.int(0..<10) {
        case 0:
            return "cell-" + String(random.int(0..<500))  // letters: the hashed table
        case 1:
            // 21 to 24 bytes: both sides of the packing limit.
            return String((0..<(21 + random.int(0..<4))).map { _ in symbols[random.int(0..<10)] })
        case 2:
            // Every length the packer reads in its own way: under a word, one word and a
            // tail, two words and a tail.
            return String((0..<(1 + random.int(0..<22))).map { _ in symbols[random.int(0..<15)] })
        default:
            return "460-0\(random.int(0..<3))-\(4000 + random.int(0..<40))-\(random.int(0..<3000))"
        }
    }

    @Test(arguments: [1, 2, 3])
    func matchesADictionaryOfFirstAppearances(seed: UInt64) {
        var random = SimulationRandom(seed: seed, stream: 91)
        let cells = CellInterner(expectedCount: 4)
        var reference: [String: Int] = [:]
        var order: [String] = []
        for _ in 0..<40_000 {
            let token = Self.token(&random)
            let expected = reference[token] ?? order.count
            if reference[token] == nil {
                reference[token] = expected
                order.append(token)
            }
            #expect(cells.intern(token).rawValue == UInt32(expected), "\(token)")
        }
        #expect(cells.count == order.count)
        #expect(order.count > 10_000, "the tables grew many times")
        for (id, token) in order.enumerated() {
            #expect(cells.name(of: CellID(rawValue: UInt32(id))) == token)
            #expect(cells.lookup(token) == CellID(rawValue: UInt32(id)))
        }
        #expect(cells.lookup("460-99-1-1") == nil && cells.lookup("never seen") == nil)
    }

    /// Tokens queued as lines are parsed and interned a batch at a time give the ids that
    /// interning each at once gives (and the names they were read from), in batches of every
    /// size, with the table growing inside a batch, tokens that do not pack among them, tokens
    /// read from inside a line or alone, and new tokens past the interners' limit.
    @Test func aQueueGivesTheIdsOfInterningAtOnce() {
        var random = SimulationRandom(seed: 5, stream: 92)
        let limit = 9_000
        let queued = CellInterner(expectedCount: 4, limit: limit)
        let direct = CellInterner(expectedCount: 4, limit: limit)
        let queue = CellQueue(capacity: 16)
        var tokens: [String] = []
        func resolve() {
            let ids = queue.resolve(in: queued) { Array($0) }
            #expect(queue.isEmpty)
            #expect(ids.count == tokens.count)
            for (place, token) in tokens.enumerated() {
                let id = direct.intern(token)
                #expect(ids[place] == id, "\(token)")
                if id != .overflow { #expect(queued.name(of: ids[place]) == token) }
            }
            tokens.removeAll()
        }
        for _ in 0..<40_000 {
            let token = Self.token(&random)
            // Half the tokens end a line with other fields before them, as the parser reads
            // them (one 16-byte load ending at the token's end).
            let prefix = random.chance(0.5) ? "2026-11-20T08:00:00Z,MOC,460001234567890," : ""
            var line = prefix + token
            let place = line.withUTF8 { bytes in
                let raw = UnsafeRawBufferPointer(bytes)
                let field = UnsafeRawBufferPointer(rebasing: raw[prefix.utf8.count...])
                return queue.take(field, readableFrom: raw.baseAddress)
            }
            #expect(place.rawValue == UInt32(tokens.count))
            tokens.append(token)
            if random.chance(0.01) { resolve() }
        }
        resolve()
        #expect(queued.count == direct.count && direct.count == limit)
    }

    @Test func tokensThatDifferOnlyInLengthOrSeparatorStayApart() {
        let cells = CellInterner()
        let tokens = [
            "1", "11", "1-1", "1_1", "1:1", "1.1", "1/1", "0", "00", "000000000000000000000000",
            "0000000000000000000000000", "123456789012345678901234", "12345678901234567890123",
        ]
        let ids = tokens.map { cells.intern($0) }
        #expect(Set(ids).count == tokens.count)
        #expect(tokens.map { cells.intern($0) } == ids)
    }

    @Test func refusesNewCellsPastItsLimitInBothTables() {
        let cells = CellInterner(expectedCount: 2, limit: 3)
        #expect(cells.intern("460-00-1-1") == CellID(rawValue: 0))
        #expect(cells.intern("A1") == CellID(rawValue: 1))
        #expect(cells.intern("460-00-1-2") == CellID(rawValue: 2))
        #expect(cells.intern("460-00-1-3") == .overflow)
        #expect(cells.intern("B2") == .overflow)
        #expect(cells.intern("A1") == CellID(rawValue: 1))
        #expect(cells.count == 3)
    }
}

/// The one-load cell packer (`catpool_pack16`, SSE2 here), its portable twin, and the
/// word-at-a-time packer against the definition, inside lines: tokens of 0 to 24 bytes
/// that end anywhere from the line's start on (where fewer than 16 bytes precede a short
/// token's end, the word-at-a-time packer takes over), with strays at every position.
struct OneLoadCellPackingTests {
    /// The definition: each byte's low nibble four bits apart, bytes 16 on in `high`, and
    /// the length above them; `nil` for an empty or long token or a byte outside 0x2D-0x3A.
    static func reference(_ token: [UInt8]) -> (low: UInt64, high: UInt64)? {
        guard (1...PackedSlot.maxLength).contains(token.count),
            token.allSatisfy({ (0x2D...0x3A).contains($0) })
        else { return nil }
        var low: UInt64 = 0
        var high = UInt64(token.count) << 24
        for (index, byte) in token.enumerated() {
            let nibble = UInt64(byte & 0x0F)
            if index < 16 {
                low |= nibble << (4 * index)
            } else {
                high |= nibble << (4 * (index - 16))
            }
        }
        return (low, high)
    }

    @Test func packsTokensInLinesAsTheDefinitionDoes() {
        var random = SimulationRandom(seed: 43, stream: 11)
        let symbols = Array("0123456789-./:".utf8)
        let strays: [UInt8] = [0x00, 0x2C, 0x3B, 0x20, 0x41, 0x5F, 0x7F, 0x80, 0xAD, 0xBA, 0xFF]
        var comparedWithTwin = 0
        for round in 0..<40_000 {
            let count = random.int(0..<25)
            let sample = FieldInLine(&random, count: count, symbols: symbols, strays: strays)
            let expected = Self.reference(sample.field)
            sample.withGuardedLine { field, start in
                let inLine = PackedSlot(packing: field, readableFrom: start)
                let alone = PackedSlot(packing: field)
                #expect(
                    inLine.map { [$0.low, $0.high] } == expected.map { [$0.low, $0.high] },
                    "round \(round): \(sample.line)")
                #expect(
                    alone.map { [$0.low, $0.high] } == expected.map { [$0.low, $0.high] },
                    "round \(round): \(sample.line)")
                guard sample.prefix.count + count >= 16,
                    let end = field.baseAddress.map({ $0 + count })
                else { return }
                comparedWithTwin += 1
                let simd = catpool_pack16(end - 16)
                let twin = catpool_pack16_portable(end - 16)
                #expect(simd.nibbles == twin.nibbles && simd.valid == twin.valid, "round \(round)")
            }
        }
        #expect(comparedWithTwin > 20_000, "most lines had 16 bytes up to the token's end")
    }
}
