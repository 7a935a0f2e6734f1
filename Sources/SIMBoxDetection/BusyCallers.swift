/// Per SIM, the packed IMSI of the last SIM that called it while dialling out from the same
/// place: only a box's channels, calling one another to fake inbound traffic, have one.
///
/// A dictionary behind one bit per SIM number. Tracking asks about every pair of candidate
/// SIMs at a place, and nearly every answer is "none": the bit answers those without
/// hashing (Swift's hashed lookups were about a tenth of the detector's instructions at a
/// transport hub). The bits cost one per SIM: 140 KB for a million.
struct BusyCallers {
    private var callerOf: [Int32: UInt64] = [:]
    private var hasCaller: [UInt64] = []

    var count: Int { callerOf.count }

    subscript(sim: Int32) -> UInt64? {
        @inline(__always) get {
            let word = Int(sim) >> 6
            guard word < hasCaller.count, hasCaller[word] & (1 << UInt64(sim & 63)) != 0 else {
                return nil
            }
            return callerOf[sim]
        }
        set {
            let word = Int(sim) >> 6
            let bit: UInt64 = 1 << UInt64(sim & 63)
            if let newValue {
                if word >= hasCaller.count {
                    hasCaller.append(
                        contentsOf: repeatElement(0, count: word + 1 - hasCaller.count))
                }
                hasCaller[word] |= bit
                callerOf[sim] = newValue
            } else if word < hasCaller.count, hasCaller[word] & bit != 0 {
                hasCaller[word] &= ~bit
                callerOf[sim] = nil
            }
        }
    }

    /// Every SIM with a caller, in SIM order (as the state file keeps them).
    func sorted() -> [(sim: Int32, caller: UInt64)] {
        callerOf.sorted { $0.key < $1.key }.map { (sim: $0.key, caller: $0.value) }
    }

    /// Checks in debug builds that the bits mark exactly the SIMs with a caller.
    func checkInvariants() {
        let marked = hasCaller.reduce(0) { $0 + $1.nonzeroBitCount }
        precondition(marked == callerOf.count, "busy callers: \(marked) bits for \(callerOf.count)")
        for sim in callerOf.keys {
            precondition(
                hasCaller[Int(sim) >> 6] & (1 << UInt64(sim & 63)) != 0,
                "busy callers: SIM \(sim) has a caller but no bit")
        }
    }
}
