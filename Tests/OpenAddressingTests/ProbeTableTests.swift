import CDRSimulation
import OpenAddressing
import Testing

/// The probe table against a `Dictionary`, by random inserts, updates, lookups and removals,
/// with its invariants checked after every removal and every 64 operations, through many
/// doublings.
struct ProbeTableTests {
    /// How keys hash: spread well, or so badly that runs grow long and removals must shift
    /// entries back across the table's end.
    protocol Hashing { static func hash(_ key: UInt64) -> UInt64 }
    enum Spread: Hashing {
        static func hash(_ key: UInt64) -> UInt64 { (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15 }
    }
    enum Clustered: Hashing {
        static func hash(_ key: UInt64) -> UInt64 { (key % 7) << 61 | (UInt64.max >> 3) }
    }

    /// A key and a count; count 0 marks the empty slot.
    struct Entry<H: Hashing>: ProbeSlot {
        var key: UInt64
        var count: UInt64
        static var empty: Entry { Entry(key: 0, count: 0) }
        var isEmpty: Bool { count == 0 }
        var probeHash: UInt64 { H.hash(key) }
    }

    @Test(arguments: [1, 2]) func agreesWithADictionaryOnSpreadKeys(seed: UInt64) {
        agreesWithADictionary(Entry<Spread>.self, keySpace: 3_000, seed: seed)
    }

    @Test func agreesWithADictionaryOnClusteredKeys() {
        agreesWithADictionary(Entry<Clustered>.self, keySpace: 300, seed: 3)
    }

    private func agreesWithADictionary<H>(_: Entry<H>.Type, keySpace: UInt64, seed: UInt64) {
        var random = SimulationRandom(seed: seed)
        var table = ProbeTable<Entry<H>>()
        var reference: [UInt64: UInt64] = [:]
        for step in 0..<30_000 {
            var removed = false
            let capacity = table.capacity
            let key = 1 + random.next() % keySpace
            let (index, found) = table.find(H.hash(key)) { $0.key == key }
            #expect(found == (reference[key] != nil), "step \(step): key \(key)")
            switch random.next() % 4 {
            case 0, 1:  // count one more
                if found {
                    table[index].count += 1
                } else {
                    table.fill(index, with: Entry(key: key, count: 1))
                }
                reference[key, default: 0] += 1
            case 2:  // count one fewer
                guard found else { continue }
                if table[index].count == 1 {
                    table.remove(at: index)
                    reference[key] = nil
                    removed = true
                } else {
                    table[index].count -= 1
                    reference[key]! -= 1
                }
            default:  // look up
                if found { #expect(table[index].count == reference[key]) }
            }
            // After every removal and doubling, which move entries, and every 64 steps: checked
            // after every step (a scan of the whole table each), this test alone took over a
            // minute of a debug-build test run.
            if removed || table.capacity != capacity || step % 64 == 0 { table.checkInvariants() }
            #expect(table.count == reference.count)
            // The load bound, which the full check also holds it to, on every step: a table
            // that doubled one insert late would be over it only until the next removal.
            #expect(table.count * 10 <= table.capacity * ProbeTable<Entry<H>>.maxLoadTenths)
        }
        var held: [UInt64: UInt64] = [:]
        for index in 0..<table.capacity where !table[index].isEmpty {
            held[table[index].key] = table[index].count
        }
        #expect(held == reference)
    }

    @Test func adoptsItsOwnSlotsAndRefusesBrokenOnes() {
        typealias Slot = Entry<Spread>
        var table = ProbeTable<Slot>()
        for key in UInt64(1)...500 { table.insert(Slot(key: key, count: key)) }
        func copy(_ edit: (UnsafeMutableBufferPointer<Slot>) -> Void = { _ in })
            -> UnsafeMutableBufferPointer<Slot>
        {
            let buffer = UnsafeMutableBufferPointer<Slot>.allocate(capacity: table.capacity)
            _ = buffer.initialize(from: table.buffer)
            edit(buffer)
            return buffer
        }
        guard let adopted = ProbeTable(adopting: copy(), count: table.count) else {
            Issue.record("a table's own slots were refused")
            return
        }
        #expect(adopted.count == 500)
        for key in UInt64(1)...500 {
            let (index, found) = adopted.find(Spread.hash(key)) { $0.key == key }
            #expect(found && adopted[index].count == key)
        }
        // A wrong count, and an entry cut off from its home by an empty slot.
        #expect(!adopts(copy(), count: 499))
        let cut = copy { slots in
            let capacity = slots.count
            let shift = UInt64(64 - capacity.trailingZeroBitCount)
            // An entry away from its home: empty the slot just before it.
            for index in 0..<capacity where !slots[index].isEmpty {
                let home = Int(slots[index].probeHash >> shift)
                if home != index {
                    slots[(index + capacity - 1) % capacity] = .empty
                    return
                }
            }
        }
        #expect(!adopts(cut, count: table.count - 1))
        // Not a power of two.
        let odd = UnsafeMutableBufferPointer<Slot>.allocate(capacity: 24)
        odd.initialize(repeating: .empty)
        #expect(!adopts(odd, count: 0))
    }

    private func adopts(_ buffer: UnsafeMutableBufferPointer<Entry<Spread>>, count: Int) -> Bool {
        ProbeTable(adopting: buffer, count: count) != nil
    }
}
