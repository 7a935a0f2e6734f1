import CDRSimulation
import Testing

@testable import SIMBoxDetection

/// `IndexMap` (4-byte slots: a tag above the SIM number, keys read back from the records)
/// against a `Dictionary`, by random inserts, removals and lookups through many doublings,
/// and through a save and a restore under another number width.
struct IndexMapTests {
    /// SIM records as the detector keeps them: the key of each number (0: none).
    struct Records {
        var keys: [UInt64]
        func key(_ number: Int32) -> UInt64 { keys[Int(number)] }
    }

    /// Numbers below 2^29 leave 2 tag bits, so lookups meet false tag matches; below 3,000, 20.
    @Test(arguments: [(numbers: 1 << 29, seed: 1), (numbers: 3_000, seed: 2)] as [(Int, UInt64)])
    func agreesWithADictionary(numbers: Int, seed: UInt64) {
        var random = SimulationRandom(seed: seed, stream: 7)
        var map = IndexMap(capacity: 16, numbers: numbers)
        var records = Records(keys: [UInt64](repeating: 0, count: 3_000))
        var reference: [UInt64: Int32] = [:]
        for round in 0..<40_000 {
            // Keys as IMSIs pack: 15 digits behind a leading 1, few of them, so they recur.
            let key = 1_000_000_000_000_000 + UInt64(random.int(0..<4_000)) * 7_919
            let found = map.number(for: key) { records.key($0) == key }
            #expect(found == reference[key] ?? -1, "round \(round), key \(key)")
            if found >= 0 { #expect(map.likelyNumber(for: key) >= 0) }
            switch random.int(0..<3) {
            case 0 where found < 0:
                guard let free = records.keys.firstIndex(of: 0) else { continue }
                records.keys[free] = key
                map.insert(key, number: Int32(free), keyOf: records.key)
                reference[key] = Int32(free)
            case 1 where found >= 0:
                map.remove(key, number: found, keyOf: records.key)
                records.keys[Int(found)] = 0
                reference[key] = nil
            default:
                break
            }
            #expect(map.count == reference.count)
            if round % 2_000 == 0 { map.checkInvariants(keyOf: records.key) }
        }
        map.checkInvariants(keyOf: records.key)

        // Saved, and restored where SIM numbers take another width: the same entries, in
        // the same slots (so lookups meet duplicates in the same order).
        var reader = Self.saved(map)
        let restored: IndexMap
        do {
            restored = try IndexMap(
                restoring: &reader, simCount: records.keys.count,
                numbers: numbers == 3_000 ? 1 << 20 : 3_000, expectedCount: reference.count,
                keyOf: records.key)
        } catch {
            Issue.record("restoring: \(error)")
            return
        }
        restored.checkInvariants(keyOf: records.key)
        #expect(restored.count == reference.count)
        #expect(restored.bytes == map.bytes)
        for (key, number) in reference {
            #expect(restored.number(for: key) { records.key($0) == key } == number)
        }
    }

    /// A saved entry naming a SIM past the records, or one twice, is refused.
    @Test func refusesEntriesNoSIMHolds() throws {
        var map = IndexMap(capacity: 16, numbers: 100)
        let records = Records(keys: (0..<10).map { 1_000_000 + UInt64($0) })
        for number in Int32(0)..<10 {
            map.insert(records.key(number), number: number, keyOf: records.key)
        }
        var reader = Self.saved(map)
        #expect(throws: StateError.self) {
            _ = try IndexMap(
                restoring: &reader, simCount: 5, numbers: 100, expectedCount: 10,
                keyOf: records.key)
        }
    }

    /// A reader over what `map.save` wrote.
    static func saved(_ map: borrowing IndexMap) -> StateReader {
        var bytes: [UInt8] = []
        var writer = StateWriter { bytes.append(contentsOf: $0) }
        map.save(into: &writer)
        writer.finish()
        return StateCodingTests.reader(bytes, piece: 1 << 20)
    }
}
