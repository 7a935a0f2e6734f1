import CDRRecords
import SlidingWindows

/// Saving the detector between runs (`catpool --state`): every table as it stands, so the
/// next run continues the windows, the SIMs' histories and the tracked clusters as if the
/// two inputs had been one.
extension DetectorState {
    /// The sizes of the records saved as bytes: a file from a build where they differ is
    /// refused rather than misread.
    static var layoutFingerprint: [Int] {
        [
            MemoryLayout<SIMHistory>.stride, MemoryLayout<SIMCounts>.stride,
            MemoryLayout<CalleeCounts.Slot>.stride, MemoryLayout<UInt64>.stride,
        ]
    }

    func save(into writer: inout StateWriter) {
        countQueuedSteps()  // counted now or before the next evaluation: the same
        history.save(into: &writer)
        // A SIM's one callee is counted again from the window on restore (`recount`), and
        // whether it is held in the counts or as a pair depends on the calls that have left:
        // written as none, so the file is the same however the window was reached.
        counts.save(into: &writer) { counts in
            counts.soloPeer = 0
            counts.soloCalls = 0
        }
        simByIMSI.save(into: &writer)
        simByMSISDN.save(into: &writer)
        // The callee pairs are not saved: `restore` counts them again from the window.
        writer.write(busyCallers.count)
        for (sim, caller) in busyCallers.sorted() {
            writer.write(sim)
            writer.write(caller)
        }
        writer.write(hot.count)
        for sim in hot { writer.write(sim) }
        writer.write(newestTime)
        writer.write(observedSince)
        writer.write(evaluatedUpTo)
        writer.write(nextSweep)
        writer.write(freeNumbers.count)
        for sim in freeNumbers { writer.write(sim) }
        writer.write(quarantined.count)
        for entry in quarantined {
            writer.write(entry.number)
            writer.write(entry.releaseAt)
        }
        writer.write(nextTrackingKey)
        writer.write(nextClusterID)
        writer.write(tracked.count)
        for key in tracked.keys.sorted() {
            guard let cluster = tracked[key] else { continue }
            writer.write(key)
            cluster.save(into: &writer)
        }
    }

    /// Replaces every table with what `save` wrote, refusing anything this detector could
    /// not run on: a SIM number, cell or location out of range, a time outside the
    /// parser's, a lookup table that could loop, window counts that are not those of
    /// `window`'s calls.
    ///
    /// - Parameters:
    ///   - window: the restored window's buckets (already checked to hold calls).
    ///   - enteredBefore: buckets numbered below it have entered the window; the others
    ///     are pending.
    ///   - references: the cells and locations restored with the detector.
    func restore(
        from reader: inout StateReader, window: [(number: Int64, events: [WindowEvent])],
        enteredBefore: Int64, references: StateReferences
    ) throws(StateError) {
        try history.restore(from: &reader) { _ in true }  // integers only: any bits are valid
        try counts.restore(from: &reader, isValid: SIMCounts.hasValidFlags)
        guard counts.count == history.count else { throw .malformed("per-SIM tables differ") }
        let simCount = history.count
        var liveSIMs = 0
        var numberedSIMs = 0
        for index in 0..<Int32(simCount) {
            let entry = history[index]
            guard entry.isValid(references) else { throw .malformed("SIM \(index)'s history") }
            if entry.imsi != 0 { liveSIMs += 1 }
            if entry.imsi != 0, entry.msisdn != 0 { numberedSIMs += 1 }
        }
        simByIMSI = try IndexMap(
            restoring: &reader, simCount: simCount, numbers: limits.maxSIMs,
            expectedCount: liveSIMs,
            keyOf: { self.history[$0].imsi })
        simByMSISDN = try IndexMap(
            restoring: &reader, simCount: simCount, numbers: limits.maxSIMs,
            expectedCount: numberedSIMs,
            keyOf: { self.history[$0].imsi == 0 ? 0 : self.history[$0].msisdn })
        func sim(_ reader: inout StateReader) throws(StateError) -> Int32 {
            let sim: Int32 = try reader.read()
            guard sim >= 0, Int(sim) < simCount else { throw .malformed("a SIM number") }
            return sim
        }
        busyCallers = BusyCallers()
        for _ in 0..<(try reader.readCount(limit: simCount)) {
            busyCallers[try sim(&reader)] = try reader.read() as UInt64
        }
        hot = []
        var isListedHot = [Bool](repeating: false, count: simCount)
        for _ in 0..<(try reader.readCount(limit: simCount)) {
            let number = try sim(&reader)
            guard !isListedHot[Int(number)] else { throw .malformed("a SIM listed twice") }
            isListedHot[Int(number)] = true
            hot.append(number)
        }
        for index in 0..<simCount where counts[Int32(index)].isHot != isListedHot[index] {
            throw .malformed("SIM \(index)'s place in the hot list")
        }
        let times = TimeBounds(windows)
        newestTime = try reader.read()
        observedSince = try reader.read()
        evaluatedUpTo = try reader.read()
        nextSweep = try reader.read()
        guard newestTime == .min || times.contains(newestTime),
            observedSince == .max || times.contains(observedSince),
            evaluatedUpTo == .min || times.contains(evaluatedUpTo),
            nextSweep == .min || times.contains(nextSweep)
        else { throw .malformed("an event time") }
        // Free and quarantined numbers belong to evicted SIMs, once each.
        var isSetAside = [Bool](repeating: false, count: simCount)
        func setAside(_ reader: inout StateReader) throws(StateError) -> Int32 {
            let number = try sim(&reader)
            guard history[number].imsi == 0, !isSetAside[Int(number)] else {
                throw .malformed("a free SIM number")
            }
            isSetAside[Int(number)] = true
            return number
        }
        freeNumbers = []
        for _ in 0..<(try reader.readCount(limit: simCount)) {
            freeNumbers.append(try setAside(&reader))
        }
        quarantined = []
        for _ in 0..<(try reader.readCount(limit: simCount)) {
            let number = try setAside(&reader)
            let releaseAt: Int64 = try reader.read()
            guard times.contains(releaseAt) else { throw .malformed("an event time") }
            quarantined.append((number, releaseAt))
        }
        nextTrackingKey = try reader.read()
        nextClusterID = try reader.read()
        // Keys become `SIMHistory.cluster` (32 bits); both only ever count up by one.
        guard (0..<Int(Int32.max)).contains(nextTrackingKey),
            (1..<Int(Int32.max)).contains(nextClusterID)
        else { throw .malformed("a cluster number") }
        tracked = [:]
        for _ in 0..<(try reader.readCount(limit: simCount)) {
            let key: Int = try reader.read()
            guard (0..<nextTrackingKey).contains(key), tracked[key] == nil else {
                throw .malformed("a cluster number")
            }
            let cluster = try TrackedCluster(restoring: &reader, simCount: simCount)
            guard cluster.isValid(in: self, references: references, times: times) else {
                throw .malformed("cluster \(key)")
            }
            tracked[key] = cluster
        }
        // A free number's SIM has no call in the window, counted or pending (its number
        // goes to the next new SIM); a quarantined one may.
        var isFree = [Bool](repeating: false, count: simCount)
        for number in freeNumbers { isFree[Int(number)] = true }
        try recount(window, enteredBefore: enteredBefore, isFree: { isFree[Int($0)] })
    }

    /// Counts the window's calls again into fresh callee pairs, and checks the saved
    /// per-SIM counts are theirs.
    private func recount(
        _ window: [(number: Int64, events: [WindowEvent])], enteredBefore: Int64,
        isFree: (Int32) -> Bool
    ) throws(StateError) {
        let saved = (0..<Int32(history.count)).map { counts[$0] }
        for index in 0..<Int32(counts.count) {
            let entry = counts.pointer(to: index)
            entry.pointee = SIMCounts(
                isHot: entry.pointee.isHot, isInFlaggedCluster: entry.pointee.isInFlaggedCluster)
        }
        callees = CalleeCounts()
        for (number, events) in window {
            for event in events {
                guard event.sim >= 0, Int(event.sim) < history.count, !isFree(event.sim) else {
                    throw .malformed("a call in the window")
                }
                // Held first: what a SIM counts never passes what it holds (16 bits).
                let entry = counts.pointer(to: event.sim)
                guard entry.pointee.heldCalls < .max else {
                    throw .malformed("a SIM's calls in the window")
                }
                entry.pointee.heldCalls += 1
                if number < enteredBefore { tally(event, by: 1, into: entry) }
            }
        }
        for index in saved.indices where !counts[Int32(index)].hasSameCounts(as: saved[index]) {
            throw .malformed("SIM \(index)'s window counts")
        }
    }
}
