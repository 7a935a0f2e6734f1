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

        // Saved, and restored where SIM numbers take another width: the same entries, each
        // found again, in a table of the same size.
        var reader = Self.reader(Self.saved(map))
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

    /// The widest number a width allows: with `numbers` a power of two or one below, the
    /// last number's bits come next to the all-ones empty slot, and are never taken for it.
    @Test(arguments: [1, 2, 7, 8, 255, 256])
    func holdsEveryNumberBelowItsCap(numbers: Int) {
        var map = IndexMap(capacity: 16, numbers: numbers)
        let records = Records(keys: (0..<numbers).map { 460_000_000_000_000 + UInt64($0) * 977 })
        for number in Int32(0)..<Int32(numbers) {
            map.insert(records.key(number), number: number, keyOf: records.key)
        }
        for number in stride(from: Int32(0), to: Int32(numbers), by: 2) {
            map.remove(records.key(number), number: number, keyOf: records.key)
        }
        map.checkInvariants(keyOf: records.key)
        for number in Int32(0)..<Int32(numbers) {
            let key = records.key(number)
            let found = map.number(for: key) { records.key($0) == key }
            #expect(found == (number % 2 == 0 ? -1 : number), "number \(number) of \(numbers)")
        }
    }

    /// A saved entry naming a SIM past the records, or one twice, or a count that is not the
    /// live SIMs', is refused; the same bytes unforged restore.
    @Test func refusesEntriesNoSIMHolds() throws {
        var map = IndexMap(capacity: 16, numbers: 100)
        let records = Records(keys: (0..<10).map { 1_000_000 + UInt64($0) })
        for number in Int32(0)..<10 {
            map.insert(records.key(number), number: number, keyOf: records.key)
        }
        let saved = Self.saved(map)
        // count, number width, slot count, then the 4-byte slots.
        let slots = stride(from: 24, to: saved.count - 8, by: 4).map { $0 }
        func slot(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
        }
        func setting(_ value: UInt32, at offset: Int, in bytes: [UInt8]) -> [UInt8] {
            var bytes = bytes
            for index in 0..<4 {
                bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
            }
            return bytes
        }
        func restores(_ bytes: [UInt8], expectedCount: Int = 10) -> Bool {
            var reader = Self.reader(bytes)
            return
                (try? IndexMap(
                    restoring: &reader, simCount: 10, numbers: 100, expectedCount: expectedCount,
                    keyOf: records.key)) != nil
        }
        let full = try #require(slots.first { slot(saved, $0) != .max })
        let empty = try #require(slots.first { slot(saved, $0) == .max })
        #expect(restores(saved))
        #expect(!restores(setting(12, at: full, in: saved)), "a SIM past the records")
        #expect(!restores(setting(slot(saved, full), at: empty, in: saved)), "a SIM twice")
        #expect(!restores(saved, expectedCount: 9), "a count that is not the live SIMs'")
    }

    /// What `map.save` wrote.
    static func saved(_ map: borrowing IndexMap) -> [UInt8] {
        var bytes: [UInt8] = []
        var writer = StateWriter { bytes.append(contentsOf: $0) }
        map.save(into: &writer)
        writer.finish()
        return bytes
    }

    static func reader(_ bytes: [UInt8]) -> StateReader {
        StateCodingTests.reader(bytes, piece: 1 << 20)
    }
}
