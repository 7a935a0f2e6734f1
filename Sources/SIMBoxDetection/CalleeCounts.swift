internal import CSupport

/// How many calls each SIM placed to each number within the window, for distinct-callee
/// counts that stay exact as calls enter and leave.
///
/// An open-addressing table of 16-byte slots (number, SIM, count), probed linearly; a count
/// that falls to zero frees its slot by backward shift, so the table holds only the pairs of
/// calls now in the window. It doubles at 70 % load, as `IndexMap` does (at half load a dense
/// city's 600,000 pairs took 32 MB instead of 16), and never shrinks: its size follows the
/// busiest window seen. It is not saved with the state: a restored detector counts it again
/// from the window's calls (see `DetectorState.recount`).
final class CalleeCounts {
    struct Slot {
        var peer: UInt64
        var sim: Int32
        /// Calls in the window; 0 marks an empty slot.
        var count: Int32
    }

    private(set) var count = 0
    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<Slot>
    private var capacity: Int
    private var shift: UInt64

    init(capacity requested: Int = 4096) {
        var capacity = 16
        while capacity < requested { capacity *= 2 }
        self.capacity = capacity
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(peer: 0, sim: 0, count: 0), count: capacity)
    }

    deinit { slots.deallocate() }

    /// Bytes held by the slots.
    var bytes: Int { capacity * MemoryLayout<Slot>.stride }

    @inline(__always)
    func prefetch(sim: Int32, peer: UInt64) {
        catpool_prefetch(slots + home(sim: sim, peer: peer))
    }

    /// Counts one more call from `sim` to `peer`; `true` when it is the first in the window.
    @inline(__always)
    func add(sim: Int32, peer: UInt64) -> Bool {
        var slot = home(sim: sim, peer: peer)
        while slots[slot].count != 0 {
            if slots[slot].peer == peer, slots[slot].sim == sim {
                slots[slot].count += 1
                return false
            }
            slot = (slot + 1) & (capacity - 1)
        }
        slots[slot] = Slot(peer: peer, sim: sim, count: 1)
        count += 1
        if count * 10 > capacity * 7 { grow() }
        return true
    }

    /// Counts one call fewer; `true` when it was the last in the window.
    ///
    /// - Precondition: `add` counted the call.
    @inline(__always)
    func remove(sim: Int32, peer: UInt64) -> Bool {
        let mask = capacity - 1
        var slot = home(sim: sim, peer: peer)
        while slots[slot].peer != peer || slots[slot].sim != sim {
            precondition(slots[slot].count != 0, "a call left the window without entering it")
            slot = (slot + 1) & mask
        }
        slots[slot].count -= 1
        guard slots[slot].count == 0 else { return false }
        var hole = slot
        var next = (hole + 1) & mask
        while slots[next].count != 0 {
            let home = home(sim: slots[next].sim, peer: slots[next].peer)
            if (next - home) & mask >= (next - hole) & mask {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole].count = 0
        count -= 1
        return true
    }

    @inline(__always)
    private func home(sim: Int32, peer: UInt64) -> Int {
        let key = peer ^ (UInt64(UInt32(bitPattern: sim)) &* 0xC2B2_AE3D_27D4_EB4F)
        return Int(truncatingIfNeeded: ((key ^ (key >> 31)) &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    private func grow() {
        let old = slots
        let oldCapacity = capacity
        capacity *= 2
        shift -= 1
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(peer: 0, sim: 0, count: 0), count: capacity)
        for index in 0..<oldCapacity where old[index].count != 0 {
            var slot = home(sim: old[index].sim, peer: old[index].peer)
            while slots[slot].count != 0 { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = old[index]
        }
        old.deallocate()
    }
}
