extension ProbeTable {
    /// Checks the table's invariants in debug builds; a no-op in release builds.
    ///
    /// - the capacity is a power of two of at least 16, and `shift` matches it;
    /// - `count` slots are occupied, at most 70 % of them;
    /// - every entry is reachable from its home slot: no empty slot lies between them, so a
    ///   lookup, which stops at the first empty slot, finds it.
    ///
    /// - Parameter hashOf: the hash an entry was placed by.
    @inlinable
    public func checkInvariants(hashOf: (Slot) -> UInt64) {
        #if DEBUG
            precondition(capacity >= 16 && capacity.nonzeroBitCount == 1, "capacity \(capacity)")
            precondition(shift == UInt64(64 - capacity.trailingZeroBitCount), "shift \(shift)")
            precondition(occupiedCount == count, "count \(count), occupied \(occupiedCount)")
            precondition(count * 10 <= capacity * Self.maxLoadTenths, "over 70 % load")
            precondition(
                everyEntryIsReachable(hashOf: hashOf), "an entry is cut off from its home slot")
        #endif
    }

    /// Slots that hold an entry.
    ///
    /// - Complexity: O(capacity).
    public var occupiedCount: Int { Self.occupiedCount(slots, capacity) }

    /// Whether every entry's probe from its home slot meets no empty slot before it.
    ///
    /// - Complexity: O(capacity).
    public func everyEntryIsReachable(hashOf: (Slot) -> UInt64) -> Bool {
        Self.everyEntryIsReachable(slots, capacity, hashOf: hashOf)
    }

    static func occupiedCount(_ slots: UnsafePointer<Slot>, _ capacity: Int) -> Int {
        (0..<capacity).reduce(0) { $0 + (slots[$1].isEmpty ? 0 : 1) }
    }

    /// Walks once round from an empty slot: an entry's distance back to its home must be
    /// shorter than its distance back to the last empty slot.
    static func everyEntryIsReachable(
        _ slots: UnsafePointer<Slot>, _ capacity: Int, hashOf: (Slot) -> UInt64
    ) -> Bool {
        let mask = capacity - 1
        let shift = UInt64(64 - capacity.trailingZeroBitCount)
        guard let firstEmpty = (0..<capacity).first(where: { slots[$0].isEmpty }) else {
            return false
        }
        var lastEmpty = firstEmpty
        for step in 1...capacity {
            let index = (firstEmpty + step) & mask
            if slots[index].isEmpty {
                lastEmpty = index
                continue
            }
            let home = Int(truncatingIfNeeded: hashOf(slots[index]) >> shift)
            guard (index - home) & mask < (index - lastEmpty) & mask else { return false }
        }
        return true
    }
}

extension ProbeTable where Slot: ProbeSlot {
    /// Checks the table's invariants in debug builds (see `checkInvariants(hashOf:)`).
    @inlinable
    public func checkInvariants() { checkInvariants { $0.probeHash } }
}
