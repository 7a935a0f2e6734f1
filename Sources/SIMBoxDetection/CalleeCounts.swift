import OpenAddressing

/// How many calls each SIM placed to each number within the window, for distinct-callee
/// counts that stay exact as calls enter and leave.
///
/// A `ProbeTable` of 16-byte slots (number, SIM, count); a count that falls to zero frees its
/// slot by backward shift, so the table holds only the pairs of calls now in the window. It
/// doubles at 70 % load (at half load, as it once did, a dense city's 600,000 pairs took
/// 32 MB instead of 16) and never shrinks: its size follows the busiest window seen. It is not saved with the state: a restored detector counts it again
/// from the window's calls (see `DetectorState.recount`).
struct CalleeCounts: ~Copyable {
    struct Slot: ProbeSlot {
        var peer: UInt64
        var sim: Int32
        /// Calls in the window; 0 marks an empty slot.
        var count: Int32

        static var empty: Slot { Slot(peer: 0, sim: 0, count: 0) }
        var isEmpty: Bool { count == 0 }
        var probeHash: UInt64 { CalleeCounts.hash(sim: sim, peer: peer) }
    }

    private var table = ProbeTable<Slot>(expectedCount: 2867)

    /// Pairs held.
    var count: Int { table.count }
    /// Bytes held by the slots.
    var bytes: Int { table.bytes }

    @inline(__always)
    func prefetch(sim: Int32, peer: UInt64) { table.prefetch(Self.hash(sim: sim, peer: peer)) }

    /// Counts one more call from `sim` to `peer`; `true` when it is the first in the window.
    @inline(__always)
    mutating func add(sim: Int32, peer: UInt64) -> Bool {
        let (index, found) = slot(sim: sim, peer: peer)
        if found {
            table[index].count += 1
            return false
        }
        table.fill(index, with: Slot(peer: peer, sim: sim, count: 1))
        return true
    }

    /// Adds the pair of `sim` and `peer`, with `count` calls (a SIM's one callee moved here
    /// from its counts when it calls a second: see `SIMCounts.soloPeer`).
    ///
    /// - Precondition: the pair is not held.
    @inline(__always)
    mutating func insert(sim: Int32, peer: UInt64, count: Int32) {
        let (index, found) = slot(sim: sim, peer: peer)
        precondition(!found && count > 0, "a SIM's one callee was already a pair")
        table.fill(index, with: Slot(peer: peer, sim: sim, count: count))
    }

    /// Counts one call fewer; `true` when it was the last in the window.
    ///
    /// - Precondition: `add` counted the call.
    @inline(__always)
    mutating func remove(sim: Int32, peer: UInt64) -> Bool {
        let (index, found) = slot(sim: sim, peer: peer)
        precondition(found, "a call left the window without entering it")
        guard table[index].count == 1 else {
            table[index].count -= 1
            return false
        }
        table.remove(at: index)
        return true
    }

    /// Where the pair of `sim` and `peer` is, or the empty slot it would go to.
    @inline(__always)
    private func slot(sim: Int32, peer: UInt64) -> (index: Int, found: Bool) {
        table.find(Self.hash(sim: sim, peer: peer)) { $0.peer == peer && $0.sim == sim }
    }

    @inline(__always)
    static func hash(sim: Int32, peer: UInt64) -> UInt64 {
        let key = peer ^ (UInt64(UInt32(bitPattern: sim)) &* 0xC2B2_AE3D_27D4_EB4F)
        return (key ^ (key >> 31)) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Checks the table in debug builds (see `ProbeTable.checkInvariants`).
    func checkInvariants() { table.checkInvariants() }

    /// Calls `body` with each pair and its count (for the detector's invariant checks).
    func forEachPair(_ body: (_ sim: Int32, _ peer: UInt64, _ count: Int32) -> Void) {
        for index in 0..<table.capacity where !table[index].isEmpty {
            body(table[index].sim, table[index].peer, table[index].count)
        }
    }
}
