public import CSupport

/// A slot of a `ProbeTable`: a plain value, one bit pattern of which means "empty".
///
/// A slot need not know the hash it was placed by: a table of such slots is told it, where
/// it moves entries (removing, doubling, checking), by a `hashOf` function of the caller's.
public protocol ProbeTableSlot: BitwiseCopyable {
    /// The empty slot.
    static var empty: Self { get }
    /// Whether this is the empty slot.
    var isEmpty: Bool { get }
}

/// A slot that knows the hash it was placed by, so its table moves it without help.
public protocol ProbeSlot: ProbeTableSlot {
    /// The hash the slot's entry was placed by: its top bits choose the home slot, so a slot
    /// that keeps only those bits (a tag) can be moved without its key.
    var probeHash: UInt64 { get }
}

/// The one open-addressing table of catpool: SIMs by IMSI and by MSISDN (`IndexMap`), callee
/// pairs (`CalleeCounts`) and cell tokens (`CellInterner`) are tables of it.
///
/// Linear probing from the top bits of a 64-bit hash, over a power of two of plain slots that
/// doubles at 70 % load; deletion shifts later entries of a run back into the hole, so no
/// tombstones build up as SIMs and calls come and go. The table knows no keys: a lookup
/// gives a hash and a test of a slot, so a slot may hold a tag and find its key elsewhere
/// (a SIM's IMSI lives in its record, read anyway), or hold no hash at all (`ProbeTableSlot`:
/// the caller then computes an entry's hash from the entry when one must move). Slots are
/// reached through indices, valid until the next insertion (which may double the table) or
/// removal.
///
/// Noncopyable: a table lives inside the one object that owns it, so using it costs no
/// reference counting (as a class it cost two atomic operations a lookup); no copy-on-write
/// and no bounds checks in release builds (indices come from the table itself).
/// `checkInvariants()` states what holds after every operation; `ProbeTableTests` runs
/// random operations against a `Dictionary`.
public struct ProbeTable<Slot: ProbeTableSlot>: ~Copyable {
    /// Entries held.
    public var count: Int { storedCount }
    @usableFromInline var storedCount = 0
    /// Slots: a power of two, at least 16.
    public var capacity: Int { storedCapacity }
    @usableFromInline var storedCapacity: Int
    @usableFromInline var shift: UInt64
    @usableFromInline var slots: UnsafeMutablePointer<Slot>

    /// The load at which the table doubles, in tenths.
    public static var maxLoadTenths: Int { 7 }

    /// An empty table with room for `expectedCount` entries before it first doubles.
    public init(expectedCount: Int = 0) {
        var capacity = 16
        while capacity * Self.maxLoadTenths < expectedCount * 10 { capacity *= 2 }
        storedCapacity = capacity
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: .empty, count: capacity)
    }

    /// A table over slots read back from a saved state, owned from here on.
    ///
    /// - Returns: `nil` (and frees `buffer`) unless the size is a power of two of at least 16
    ///   slots, `count` slots are occupied, the load is under 70 % (so an empty slot ends every
    ///   probe) and every entry is reachable from its home slot. What the entries mean is for
    ///   the caller to check.
    ///   - hashOf: the hash an entry was placed by.
    public init?(
        adopting buffer: UnsafeMutableBufferPointer<Slot>, count: Int,
        hashOf: (Slot) -> UInt64
    ) {
        let capacity = buffer.count
        guard capacity >= 16, capacity.nonzeroBitCount == 1,
            count * 10 <= capacity * Self.maxLoadTenths, let base = buffer.baseAddress,
            Self.occupiedCount(base, capacity) == count,
            Self.everyEntryIsReachable(base, capacity, hashOf: hashOf)
        else {
            buffer.deallocate()
            return nil
        }
        storedCapacity = capacity
        storedCount = count
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        slots = base
    }

    deinit { slots.deallocate() }

    /// Bytes held by the slots.
    public var bytes: Int { capacity * MemoryLayout<Slot>.stride }

    /// The slots, for saving.
    public var buffer: UnsafeBufferPointer<Slot> {
        UnsafeBufferPointer(start: slots, count: capacity)
    }

    /// The slot at `index` (from `find`, `insert` or a walk over `0..<capacity`).
    @inlinable
    public subscript(index: Int) -> Slot {
        @inline(__always) get {
            assert(index >= 0 && index < capacity)
            return slots[index]
        }
        @inline(__always) nonmutating set {
            assert(index >= 0 && index < capacity && !newValue.isEmpty && !slots[index].isEmpty)
            slots[index] = newValue
        }
    }

    /// The home slot of `hash`: its top bits.
    @inlinable @inline(__always)
    public func home(of hash: UInt64) -> Int { Int(truncatingIfNeeded: hash >> shift) }

    /// Starts loading the home slot of `hash` into the cache.
    @inlinable @inline(__always)
    public func prefetch(_ hash: UInt64) { catpool_prefetch(slots + home(of: hash)) }

    /// The first slot from `hash`'s home on that `matches`, or the empty slot that ends the
    /// probe.
    ///
    /// - Returns: the slot's index, and whether it matched (else it is empty: where an entry
    ///   for `hash` would go).
    @inlinable @inline(__always)
    public func find(_ hash: UInt64, where matches: (Slot) -> Bool) -> (index: Int, found: Bool) {
        let mask = capacity &- 1
        var index = home(of: hash)
        while true {
            let slot = slots[index]
            if slot.isEmpty { return (index, false) }
            if matches(slot) { return (index, true) }
            index = (index &+ 1) & mask
        }
    }

    /// Puts `slot` into the empty slot at `index`, where `find` ended for the slot's hash,
    /// doubling the table when that brings it past 70 % load (which moves the slots).
    ///
    /// - Parameter hashOf: the hash an entry was placed by (asked only when doubling).
    @inlinable @inline(__always)
    public mutating func fill(_ index: Int, with slot: Slot, hashOf: (Slot) -> UInt64) {
        assert(slots[index].isEmpty && !slot.isEmpty)
        slots[index] = slot
        storedCount &+= 1
        if storedCount &* 10 > capacity &* Self.maxLoadTenths { grow(hashOf: hashOf) }
    }

    /// Adds `slot`, placed by `hash`, as a new entry (one `find` would not meet).
    @inlinable
    public mutating func insert(_ slot: Slot, hash: UInt64, hashOf: (Slot) -> UInt64) {
        fill(find(hash) { _ in false }.index, with: slot, hashOf: hashOf)
    }

    /// Empties the slot at `index`, moving later entries of its run back so that every entry
    /// stays reachable from its home slot.
    ///
    /// - Parameter hashOf: the hash an entry was placed by (asked of the entries after it).
    @inlinable
    public mutating func remove(at index: Int, hashOf: (Slot) -> UInt64) {
        assert(!slots[index].isEmpty)
        let mask = capacity - 1
        var hole = index
        var next = (hole + 1) & mask
        while !slots[next].isEmpty {
            let home = home(of: hashOf(slots[next]))
            // The entry may move back into the hole when its home is not between the hole and it.
            if (next - home) & mask >= (next - hole) & mask {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = .empty
        storedCount -= 1
    }

    @inlinable
    mutating func grow(hashOf: (Slot) -> UInt64) {
        let old = slots
        let oldCapacity = capacity
        storedCapacity *= 2
        shift -= 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: .empty, count: capacity)
        let mask = capacity - 1
        for index in 0..<oldCapacity where !old[index].isEmpty {
            var slot = home(of: hashOf(old[index]))
            while !slots[slot].isEmpty { slot = (slot + 1) & mask }
            slots[slot] = old[index]
        }
        old.deallocate()
    }
}

extension ProbeTable where Slot: ProbeSlot {
    /// A table over slots read back from a saved state (see `init(adopting:count:hashOf:)`).
    public init?(adopting buffer: UnsafeMutableBufferPointer<Slot>, count: Int) {
        self.init(adopting: buffer, count: count) { $0.probeHash }
    }

    /// Puts `slot` into the empty slot at `index` (see `fill(_:with:hashOf:)`).
    @inlinable @inline(__always)
    public mutating func fill(_ index: Int, with slot: Slot) {
        fill(index, with: slot) { $0.probeHash }
    }

    /// Adds `slot` as a new entry (one `find` would not meet).
    @inlinable
    public mutating func insert(_ slot: Slot) {
        insert(slot, hash: slot.probeHash) { $0.probeHash }
    }

    /// Empties the slot at `index` (see `remove(at:hashOf:)`).
    @inlinable
    public mutating func remove(at index: Int) {
        remove(at: index) { $0.probeHash }
    }
}
