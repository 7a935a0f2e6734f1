internal import CSupport

/// Finds a dense SIM number by a 64-bit key (a packed IMSI or MSISDN) in one probe, mostly.
///
/// The keys themselves live in the SIM records, so a slot is 8 bytes: 32 bits of the key's
/// hash as a tag and the SIM number. A lookup checks tags first and asks `isKey` only on a
/// tag match, so it touches one slot and then the record the caller reads anyway. Linear
/// probing with backward-shift deletion keeps the table free of tombstones when SIMs are
/// evicted; it doubles at 70 % load (eight slots share a cache line, so probes stay cheap).
final class IndexMap {
    private(set) var count = 0
    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<UInt64>
    private var capacity: Int
    private var shift: UInt64

    /// An empty slot: no SIM number is ever 0xFFFF_FFFF.
    private static let empty: UInt64 = .max

    init(capacity requested: Int = 1024) {
        var capacity = 16
        while capacity < requested { capacity *= 2 }
        self.capacity = capacity
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Self.empty, count: capacity)
    }

    deinit { slots.deallocate() }

    /// Bytes held by the slots.
    var bytes: Int { capacity * MemoryLayout<UInt64>.stride }

    /// Starts loading the slot `key` hashes to.
    @inline(__always)
    func prefetch(_ key: UInt64) { catpool_prefetch(slots + home(of: Self.hash(key))) }

    /// The number whose tag matches `key`'s, unverified (-1: none): enough to prefetch its
    /// record without waiting for the record to check the key.
    @inline(__always)
    func likelyNumber(for key: UInt64) -> Int32 {
        let hash = Self.hash(key)
        let tag = hash >> 32
        var slot = home(of: hash)
        while true {
            let entry = slots[slot]
            if entry == Self.empty { return -1 }
            if entry >> 32 == tag { return Int32(truncatingIfNeeded: entry) }
            slot = (slot + 1) & (capacity - 1)
        }
    }

    /// The number stored for `key`, or -1.
    @inline(__always)
    func number(for key: UInt64, isKey: (Int32) -> Bool) -> Int32 {
        let hash = Self.hash(key)
        let tag = hash >> 32
        var slot = home(of: hash)
        while true {
            let entry = slots[slot]
            if entry == Self.empty { return -1 }
            if entry >> 32 == tag, isKey(Int32(truncatingIfNeeded: entry)) {
                return Int32(truncatingIfNeeded: entry)
            }
            slot = (slot + 1) & (capacity - 1)
        }
    }

    /// Stores `number` for `key`, which must not be present.
    func insert(_ key: UInt64, number: Int32) {
        if (count + 1) * 10 > capacity * 7 { grow() }
        let hash = Self.hash(key)
        var slot = home(of: hash)
        while slots[slot] != Self.empty { slot = (slot + 1) & (capacity - 1) }
        slots[slot] = (hash >> 32) << 32 | UInt64(UInt32(bitPattern: number))
        count += 1
    }

    /// Removes the entry for `key` that holds `number`, when there is one.
    func remove(_ key: UInt64, number: Int32) {
        let hash = Self.hash(key)
        let wanted = (hash >> 32) << 32 | UInt64(UInt32(bitPattern: number))
        let mask = capacity - 1
        var slot = home(of: hash)
        while slots[slot] != wanted {
            if slots[slot] == Self.empty { return }
            slot = (slot + 1) & mask
        }
        // Backward shift: move later entries of the run into the hole when their home allows.
        var hole = slot
        var next = (hole + 1) & mask
        while slots[next] != Self.empty {
            let home = home(of: slots[next] & 0xFFFF_FFFF_0000_0000)
            if (next - home) & mask >= (next - hole) & mask {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = Self.empty
        count -= 1
    }

    /// Fibonacci hashing: good spread for keys that differ only in their low digits.
    @inline(__always)
    private static func hash(_ key: UInt64) -> UInt64 {
        (key ^ (key >> 29)) &* 0x9E37_79B9_7F4A_7C15
    }

    /// The home slot of a hash: its top bits.
    @inline(__always)
    private func home(of hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> shift) }

    private func grow() {
        let old = slots
        let oldCapacity = capacity
        capacity *= 2
        shift -= 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Self.empty, count: capacity)
        for index in 0..<oldCapacity where old[index] != Self.empty {
            var slot = home(of: old[index] & 0xFFFF_FFFF_0000_0000)
            while slots[slot] != Self.empty { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = old[index]
        }
        old.deallocate()
    }

    // MARK: - Saving

    func save(into writer: inout StateWriter) {
        writer.write(count)
        writer.writeRaw(slots, count: capacity)
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
        let restored: UnsafeMutableBufferPointer<UInt64>
        do {
            restored = try reader.readRawAllocating(of: UInt64.self, limit: max(4096, 4 * simCount))
        } catch .tooLarge {
            throw .malformed("a lookup table's size")
        }
        let capacity = restored.count
        guard capacity >= 16, capacity.nonzeroBitCount == 1, count * 10 <= capacity * 7,
            count == expectedCount, let base = restored.baseAddress
        else {
            restored.deallocate()
            throw .malformed("a lookup table's size")
        }
        self.count = count
        self.capacity = capacity
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        slots = base  // owned from here: `deinit` frees it if a check below throws
        guard isConsistent(simCount: simCount, keyOf: keyOf) else {
            throw .malformed("a lookup table's entries")
        }
    }

    private func isConsistent(simCount: Int, keyOf: (Int32) -> UInt64) -> Bool {
        let mask = capacity - 1
        guard let firstEmpty = (0..<capacity).first(where: { slots[$0] == Self.empty }) else {
            return false
        }
        var seen = [Bool](repeating: false, count: simCount)
        var entries = 0
        var lastEmpty = firstEmpty
        // Walk once round from an empty slot: each entry's probe from its home must meet no
        // empty slot before it.
        for step in 1...capacity {
            let slot = (firstEmpty + step) & mask
            let entry = slots[slot]
            if entry == Self.empty {
                lastEmpty = slot
                continue
            }
            let number = Int(entry & 0xFFFF_FFFF)
            guard number < simCount, !seen[number] else { return false }
            seen[number] = true
            let key = keyOf(Int32(number))
            guard key != 0 else { return false }
            let hash = Self.hash(key)
            guard hash >> 32 == entry >> 32,
                (slot - home(of: hash)) & mask < (slot - lastEmpty) & mask
            else { return false }
            entries += 1
        }
        return entries == count
    }
}
