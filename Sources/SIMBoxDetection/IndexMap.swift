import OpenAddressing

/// Finds a dense SIM number by a 64-bit key (a packed IMSI or MSISDN) in one probe, mostly.
///
/// The keys themselves live in the SIM records, so a slot is 8 bytes: 32 bits of the key's
/// hash as a tag and the SIM number. A lookup checks tags first and asks `isKey` only on a
/// tag match, so it touches one slot and then the record the caller reads anyway. Linear
/// probing with backward-shift deletion keeps the table free of tombstones when SIMs are
/// evicted; it doubles at 70 % load (eight slots share a cache line, so probes stay cheap).
struct IndexMap: ~Copyable {
    /// A slot: the key's hash in the top 32 bits as a tag, the SIM number in the low 32.
    struct Slot: ProbeSlot {
        var bits: UInt64
        /// No SIM number is ever 0xFFFF_FFFF.
        static var empty: Slot { Slot(bits: .max) }
        var isEmpty: Bool { bits == .max }
        var probeHash: UInt64 { bits & 0xFFFF_FFFF_0000_0000 }
        var number: Int32 { Int32(truncatingIfNeeded: bits) }
        var tag: UInt64 { bits >> 32 }
    }

    private var table: ProbeTable<Slot>

    init(capacity requested: Int = 1024) {
        table = ProbeTable(expectedCount: requested * ProbeTable<Slot>.maxLoadTenths / 10)
    }

    var count: Int { table.count }
    /// Bytes held by the slots.
    var bytes: Int { table.bytes }

    /// Starts loading the slot `key` hashes to.
    @inline(__always)
    func prefetch(_ key: UInt64) { table.prefetch(Self.hash(key)) }

    /// The number whose tag matches `key`'s, unverified (-1: none): enough to prefetch its
    /// record without waiting for the record to check the key.
    @inline(__always)
    func likelyNumber(for key: UInt64) -> Int32 {
        let hash = Self.hash(key)
        let (index, found) = table.find(hash) { $0.tag == hash >> 32 }
        return found ? table[index].number : -1
    }

    /// The number stored for `key`, or -1.
    @inline(__always)
    func number(for key: UInt64, isKey: (Int32) -> Bool) -> Int32 {
        let hash = Self.hash(key)
        let (index, found) = table.find(hash) { $0.tag == hash >> 32 && isKey($0.number) }
        return found ? table[index].number : -1
    }

    /// Stores `number` for `key`, which must not be present.
    mutating func insert(_ key: UInt64, number: Int32) {
        table.insert(Slot(bits: (Self.hash(key) >> 32) << 32 | UInt64(UInt32(bitPattern: number))))
    }

    /// Removes the entry for `key` that holds `number`, when there is one.
    mutating func remove(_ key: UInt64, number: Int32) {
        let hash = Self.hash(key)
        let wanted = (hash >> 32) << 32 | UInt64(UInt32(bitPattern: number))
        let (index, found) = table.find(hash) { $0.bits == wanted }
        if found { table.remove(at: index) }
    }

    /// Fibonacci hashing: good spread for keys that differ only in their low digits.
    @inline(__always)
    private static func hash(_ key: UInt64) -> UInt64 {
        (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Checks the table in debug builds (see `ProbeTable.checkInvariants`).
    func checkInvariants() { table.checkInvariants() }

    // MARK: - Saving

    func save(into writer: inout StateWriter) {
        writer.write(count)
        // A table always has slots (16 or more), so the buffer has a base address.
        if let base = table.buffer.baseAddress { writer.writeRaw(base, count: table.capacity) }
    }

    /// Restores what `save` wrote, checked so that no lookup can loop or leave the SIM
    /// arrays: a power-of-two size under 70 % load (so an empty slot ends every probe), and
    /// every entry the SIM `keyOf` names, distinct, tagged with its key's hash and reachable
    /// from its home slot.
    ///
    /// - Parameters:
    ///   - simCount: SIM numbers run from 0 to `simCount - 1`.
    ///   - expectedCount: how many SIMs have a key here (`keyOf` is not 0).
    ///   - keyOf: the key of a SIM, 0 when it has none here.
    /// - Complexity: O(slots).
    init(
        restoring reader: inout StateReader, simCount: Int, expectedCount: Int,
        keyOf: (Int32) -> UInt64
    ) throws(StateError) {
        let count = try reader.readCount(limit: simCount)
        // It doubles at 70 % load from 4096 slots and never shrinks, and holds live SIMs only.
        let restored: UnsafeMutableBufferPointer<Slot>
        do {
            restored = try reader.readRawAllocating(of: Slot.self, limit: max(4096, 4 * simCount))
        } catch .tooLarge {
            throw .malformed("a lookup table's size")
        }
        guard count == expectedCount else {
            restored.deallocate()
            throw .malformed("a lookup table's size")
        }
        guard let table = ProbeTable(adopting: restored, count: count) else {
            throw .malformed("a lookup table's size or entries")
        }
        guard Self.entriesAreSIMs(table, simCount: simCount, keyOf: keyOf) else {
            throw .malformed("a lookup table's entries")
        }
        self.table = table
    }

    /// Whether every entry names a distinct SIM with a key whose hash carries the entry's tag.
    private static func entriesAreSIMs(
        _ table: borrowing ProbeTable<Slot>, simCount: Int, keyOf: (Int32) -> UInt64
    ) -> Bool {
        var seen = [Bool](repeating: false, count: simCount)
        for index in 0..<table.capacity where !table[index].isEmpty {
            let slot = table[index]
            let number = Int(UInt32(truncatingIfNeeded: slot.bits))
            guard number < simCount, !seen[number] else { return false }
            seen[number] = true
            let key = keyOf(Int32(number))
            guard key != 0, Self.hash(key) >> 32 == slot.tag else { return false }
        }
        return true
    }
}
