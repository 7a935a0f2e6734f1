import CDRRecords
import CDRSimulation
import Testing

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
