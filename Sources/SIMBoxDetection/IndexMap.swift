import OpenAddressing

/// Finds a dense SIM number by a 64-bit key (a packed IMSI or MSISDN) in one probe, mostly.
///
/// The keys themselves live in the SIM records, so a slot is 4 bytes: the SIM number in its
/// low bits and, above it, as many bits of the key's hash as a tag as the number leaves (8
/// under the default state cap, whose 8.9 million SIMs take 24). A lookup checks tags first
/// and asks `isKey` only on a tag match, so it touches one slot and then the record the
/// caller reads anyway; a false match costs one record read, for one slot in 2^(tag bits). A slot holds too little of the hash to find its
/// home, so moving an entry (removing, doubling, restoring) asks the caller for its key:
/// `keyOf` reads the SIM's record. Linear probing with backward-shift deletion keeps the
/// table free of tombstones when SIMs are evicted; it doubles at 70 % load (sixteen slots
/// share a cache line, so probes stay cheap). A dense city's million SIMs take 8 MB a
/// table, where 8-byte slots took 16.
struct IndexMap: ~Copyable {
    /// A slot: the tag above the SIM number; all ones is empty (no SIM number is all ones).
    struct Slot: ProbeTableSlot {
        var bits: UInt32
        static var empty: Slot { Slot(bits: .max) }
        var isEmpty: Bool { bits == .max }
    }

    private var table: ProbeTable<Slot>
    /// Bits of a slot that hold the SIM number: enough for every number below `numbers`,
    /// and for the all-ones empty pattern to be none of them.
    private let numberBits: UInt32
    private let numberMask: UInt32
    /// The bits above the number: the tag's.
    private let tagMask: UInt32

    /// - Parameters:
    ///   - requested: entries to hold before the first doubling.
    ///   - numbers: SIM numbers run below this (the state cap's SIM count), at most
    ///     `Int32.max`.
    init(capacity requested: Int = 1024, numbers: Int) {
        precondition(numbers >= 0 && numbers <= Int(Int32.max), "SIM numbers must fit 31 bits")
        numberBits = Self.bits(for: numbers)
        numberMask = UInt32.max >> (32 - numberBits)
        tagMask = ~numberMask
        table = ProbeTable(expectedCount: requested * ProbeTable<Slot>.maxLoadTenths / 10)
    }

    /// The fewest bits that hold every number below `numbers` with all ones left over: at
    /// least 1, at most 31 (leaving a tag bit).
    private static func bits(for numbers: Int) -> UInt32 {
        UInt32(max(1, Int.bitWidth - numbers.leadingZeroBitCount))
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
        let tag = self.tag(hash)
        let (index, found) = table.find(hash) { $0.bits & tagMask == tag }
        return found ? number(table[index]) : -1
    }

    /// The number stored for `key`, or -1.
    @inline(__always)
    func number(for key: UInt64, isKey: (Int32) -> Bool) -> Int32 {
        let hash = Self.hash(key)
        let tag = self.tag(hash)
        let (index, found) = table.find(hash) { $0.bits & tagMask == tag && isKey(number($0)) }
        return found ? number(table[index]) : -1
    }

    /// Stores `number` for `key`, which must not be present.
    ///
    /// - Parameter keyOf: the key each SIM number was stored with (read when the table
    ///   doubles).
    mutating func insert(_ key: UInt64, number: Int32, keyOf: (Int32) -> UInt64) {
        let hash = Self.hash(key)
        let mask = numberMask
        table.insert(slot(hash, number), hash: hash) { Self.hash(keyOf(Self.number($0, mask))) }
    }

    /// Removes the entry for `key` that holds `number`, when there is one.
    ///
    /// - Parameter keyOf: the key each other SIM number was stored with (read for the
    ///   entries shifted back into the hole).
    mutating func remove(_ key: UInt64, number: Int32, keyOf: (Int32) -> UInt64) {
        let hash = Self.hash(key)
        let wanted = slot(hash, number)
        let (index, found) = table.find(hash) { $0.bits == wanted.bits }
        let mask = numberMask
        if found { table.remove(at: index) { Self.hash(keyOf(Self.number($0, mask))) } }
    }

    @inline(__always)
    private func number(_ slot: Slot) -> Int32 { Self.number(slot, numberMask) }

    @inline(__always)
    private static func number(_ slot: Slot, _ mask: UInt32) -> Int32 {
        Int32(bitPattern: slot.bits & mask)
    }

    /// `hash`'s tag, in place above the number: its bits from the hash's low word, as its top
    /// bits choose the home slot and entries that probe together share those. (One mask:
    /// shifting the tag into place cost the detector 20 instructions a record.)
    @inline(__always)
    private func tag(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash) & tagMask }

    @inline(__always)
    private func slot(_ hash: UInt64, _ number: Int32) -> Slot {
        assert(UInt32(bitPattern: number) & tagMask == 0, "SIM number \(number) is too wide")
        return Slot(bits: tag(hash) | UInt32(bitPattern: number))
    }

    /// Fibonacci hashing: good spread for keys that differ only in their low digits.
    @inline(__always)
    private static func hash(_ key: UInt64) -> UInt64 {
        (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Checks the table in debug builds (see `ProbeTable.checkInvariants`), and that every
    /// entry carries its key's tag.
    func checkInvariants(keyOf: (Int32) -> UInt64) {
        table.checkInvariants { Self.hash(keyOf(number($0))) }
        #if DEBUG
            for index in 0..<table.capacity where !table[index].isEmpty {
                let slot = table[index]
                precondition(
                    slot.bits & tagMask == tag(Self.hash(keyOf(number(slot)))),
                    "slot \(index) has another key's tag")
            }
        #endif
    }

    // MARK: - Saving

    func save(into writer: inout StateWriter) {
        writer.write(count)
        writer.write(Int(numberBits))
        // A table always has slots (16 or more), so the buffer has a base address.
        if let base = table.buffer.baseAddress { writer.writeRaw(base, count: table.capacity) }
    }

    /// Restores what `save` wrote, checked so that no lookup can loop or leave the SIM arrays.
    ///
    /// The table must be a power-of-two size under 70 % load (so an empty slot ends every
    /// probe), and every entry a SIM `keyOf` names, distinct and reachable from its home
    /// slot. The tags are made again from the keys: the saving run's cap may have left the
    /// number another width.
    ///
    /// - Parameters:
    ///   - simCount: SIM numbers run from 0 to `simCount - 1`.
    ///   - numbers: SIM numbers run below this from here on (see `init(capacity:numbers:)`);
    ///     at least `simCount`.
    ///   - expectedCount: how many SIMs have a key here (`keyOf` is not 0).
    ///   - keyOf: the key of a SIM, 0 when it has none here.
    /// - Complexity: O(slots).
    init(
        restoring reader: inout StateReader, simCount: Int, numbers: Int, expectedCount: Int,
        keyOf: (Int32) -> UInt64
    ) throws(StateError) {
        self.init(numbers: max(numbers, simCount))
        let count = try reader.readCount(limit: simCount)
        let savedBits = try reader.readCount(limit: 31)
        guard savedBits >= 1 else { throw .malformed("a lookup table's number width") }
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
        let savedMask = UInt32.max >> (32 - savedBits)
        guard retag(restored, savedMask: savedMask, simCount: simCount, keyOf: keyOf) else {
            restored.deallocate()
            throw .malformed("a lookup table's entries")
        }
        guard
            let table = ProbeTable(
                adopting: restored, count: count,
                hashOf: { [numberMask] in Self.hash(keyOf(Self.number($0, numberMask))) })
        else {
            throw .malformed("a lookup table's size or entries")
        }
        self.table = table
    }

    /// Gives every saved entry this table's tag for its key, in place.
    ///
    /// - Returns: whether every entry names a distinct SIM below `simCount` that has a key.
    private func retag(
        _ slots: UnsafeMutableBufferPointer<Slot>, savedMask: UInt32, simCount: Int,
        keyOf: (Int32) -> UInt64
    ) -> Bool {
        var seen = [Bool](repeating: false, count: simCount)
        for index in slots.indices where !slots[index].isEmpty {
            let number = Int(slots[index].bits & savedMask)
            guard number < simCount, !seen[number] else { return false }
            seen[number] = true
            let key = keyOf(Int32(number))
            guard key != 0 else { return false }
            slots[index] = slot(Self.hash(key), Int32(number))
        }
        return true
    }
}
