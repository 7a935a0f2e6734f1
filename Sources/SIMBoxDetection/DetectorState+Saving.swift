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
        counts.save(into: &writer)
        simByIMSI.save(into: &writer)
        simByMSISDN.save(into: &writer)
        // The callee pairs are not saved: `restore` counts them again from the window.
        writer.write(busyCallers.count)
        for (sim, caller) in busyCallers.sorted(by: { $0.key < $1.key }) {
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
            restoring: &reader, simCount: simCount, expectedCount: liveSIMs,
            keyOf: { self.history[$0].imsi })
        simByMSISDN = try IndexMap(
            restoring: &reader, simCount: simCount, expectedCount: numberedSIMs,
            keyOf: { self.history[$0].imsi == 0 ? 0 : self.history[$0].msisdn })
        func sim(_ reader: inout StateReader) throws(StateError) -> Int32 {
            let sim: Int32 = try reader.read()
            guard sim >= 0, Int(sim) < simCount else { throw .malformed("a SIM number") }
            return sim
        }
        busyCallers = [:]
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
                if number < enteredBefore {
                    tally(event, by: 1, into: counts.pointer(to: event.sim))
                }
                let entry = counts.pointer(to: event.sim)
                guard entry.pointee.heldCalls < .max else {
                    throw .malformed("a SIM's calls in the window")
                }
                entry.pointee.heldCalls += 1
            }
        }
        for index in saved.indices where !counts[Int32(index)].hasSameCounts(as: saved[index]) {
            throw .malformed("SIM \(index)'s window counts")
        }
    }
}

/// What a saved detector may name outside itself: the cells and locations restored with it
/// (`Pipeline` saves them before the detector).
public struct StateReferences: Sendable, Equatable {
    /// Cells interned, numbered from 0.
    public var cellCount: Int
    /// Locations (sites, or cells without one), numbered from 0.
    public var locationCount: Int

    public init(cellCount: Int, locationCount: Int) {
        self.cellCount = cellCount
        self.locationCount = locationCount
    }
}

/// The event times a restored detector accepts: those the parser does, widened by the
/// windows, so every sum and difference of them stays far from overflow.
struct TimeBounds {
    let range: ClosedRange<Int64>

    init(_ windows: WindowConfiguration) {
        let slack =
            windows.widthMilliseconds + windows.hopMilliseconds + windows.latenessMilliseconds
            + DetectorState.day
        let earliest = TimestampParser.earliest.millisecondsSinceEpoch
        let latest = TimestampParser.latest.millisecondsSinceEpoch
        range = (earliest - slack)...(latest + slack)
    }

    func contains(_ time: Int64) -> Bool { range.contains(time) }
}

extension SIMHistory {
    /// Whether a restored record names only what exists: an IMSI (or 0 once evicted), a
    /// phone number and IMEIs as the parser packs them, a restored cell, and a restored
    /// location (every SIM held has one).
    func isValid(_ references: StateReferences) -> Bool {
        guard imsi == 0 || isPacked(imsi, digits: 6...15),
            msisdn == 0 || isPacked(msisdn, digits: 1...18),
            imei0 == 0 || isPacked(imei0, digits: 14...14),
            imei1 == 0 || isPacked(imei1, digits: 14...14),
            Int(lastCell) < references.cellCount,
            Int(location) < references.locationCount, location >= (imsi == 0 ? -1 : 0),
            cluster >= -1
        else { return false }
        return true
    }
}

/// Whether `value` is a string of `digits` digits as `PackedDigits` stores it: behind a
/// leading 1, so `10^n <= value < 2 * 10^n` for its length `n`.
func isPacked(_ value: UInt64, digits: ClosedRange<Int>) -> Bool {
    var power: UInt64 = 1
    for length in 1...18 {
        power *= 10
        if digits.contains(length), value >= power, value < 2 * power { return true }
    }
    return false
}

extension SIMCounts {
    /// Whether a saved record's flags are each 0 or 1 (any other byte is no `Bool`).
    static func hasValidFlags(_ raw: UnsafeRawPointer) -> Bool {
        for flag in [\SIMCounts.isHot, \SIMCounts.isInFlaggedCluster] {
            guard let offset = MemoryLayout<SIMCounts>.offset(of: flag),
                raw.load(fromByteOffset: offset, as: UInt8.self) <= 1
            else { return false }
        }
        return true
    }

    func hasSameCounts(as other: SIMCounts) -> Bool {
        callsOut == other.callsOut && callsInExternal == other.callsInExternal
            && callsInFromBusy == other.callsInFromBusy && answered == other.answered
            && distinctCallees == other.distinctCallees && answeredSeconds == other.answeredSeconds
            && busySeconds == other.busySeconds && heldCalls == other.heldCalls
    }
}

extension WindowEvent {
    /// Whether a saved event's bytes hold a call: the type of a call placed or received
    /// and a flag of 0 or 1 (checked before the bytes are read as a `WindowEvent`).
    static func isCall(_ raw: UnsafeRawPointer) -> Bool {
        guard let typeOffset = MemoryLayout<WindowEvent>.offset(of: \.type),
            let flagOffset = MemoryLayout<WindowEvent>.offset(of: \.isFromBusySIM)
        else { return false }
        let type = raw.load(fromByteOffset: typeOffset, as: UInt8.self)
        return (type == callTypeBytes.moc || type == callTypeBytes.mtc)
            && raw.load(fromByteOffset: flagOffset, as: UInt8.self) <= 1
    }

    private static let callTypeBytes = (
        moc: withUnsafeBytes(of: RecordType.moc) { $0[0] },
        mtc: withUnsafeBytes(of: RecordType.mtc) { $0[0] }
    )
}

extension TrackedCluster {
    func save(into writer: inout StateWriter) {
        writer.write(sims.count)
        for sim in sims.sorted() { writer.write(sim) }
        writer.write(location)
        writer.write(lastSeen)
        writer.write(id ?? -1)
        writer.write(deviceCount)
        writer.write(severity.rawValue)
        writer.write(firstSeen)
        writer.write(callsOut)
        writer.write(peakSIMs)
        last.save(into: &writer)
    }

    init(restoring reader: inout StateReader, simCount: Int) throws(StateError) {
        var sims = Set<Int32>()
        for _ in 0..<(try reader.readCount(limit: simCount)) {
            let sim: Int32 = try reader.read()
            guard sim >= 0, Int(sim) < simCount else { throw .malformed("a cluster's SIM") }
            sims.insert(sim)
        }
        let location: Int32 = try reader.read()
        let lastSeen: Int64 = try reader.read()
        let id: Int = try reader.read()
        let deviceCount: Int = try reader.read()
        guard let severity = ClusterDecision.Severity(rawValue: try reader.read()) else {
            throw .malformed("a cluster's severity")
        }
        let firstSeen: Int64 = try reader.read()
        let callsOut: Int = try reader.read()
        let peakSIMs: Int = try reader.read()
        let last = try Observation(restoring: &reader, simCount: simCount)
        self.init(
            sims: sims, location: location, lastSeen: lastSeen, last: last,
            id: id < 0 ? nil : id, deviceCount: deviceCount, severity: severity,
            firstSeen: firstSeen, callsOut: callsOut, peakSIMs: peakSIMs)
    }
}

extension Observation {
    func save(into writer: inout StateWriter) {
        writer.write(sims.count)
        for sim in sims { writer.write(sim) }
        writer.write(activeSince)
        writer.write(statistics.callsOut)
        writer.write(statistics.callsIn)
        writer.write(statistics.callsBetweenSIMs)
        writer.write(statistics.distinctCallees)
        writer.write(statistics.meanDurationSeconds)
        writer.write(statistics.answeredShare)
        writer.write(statistics.callsPerMinute)
        writer.write(statistics.meanConcurrentCalls)
        writer.write(score)
        writer.write(reasons.count)
        for reason in reasons {
            writer.write(reason.code)
            writer.write(reason.value)
            writer.write(reason.threshold)
        }
    }

    init(restoring reader: inout StateReader, simCount: Int) throws(StateError) {
        var sims: [Int32] = []
        for _ in 0..<(try reader.readCount(limit: simCount)) {
            let sim: Int32 = try reader.read()
            guard sim >= 0, Int(sim) < simCount else { throw .malformed("an observed SIM") }
            sims.append(sim)
        }
        let activeSince: Int64 = try reader.read()
        var statistics = ClusterDecision.Statistics()
        statistics.callsOut = try reader.read()
        statistics.callsIn = try reader.read()
        statistics.callsBetweenSIMs = try reader.read()
        statistics.distinctCallees = try reader.read()
        statistics.meanDurationSeconds = try reader.read()
        statistics.answeredShare = try reader.read()
        statistics.callsPerMinute = try reader.read()
        statistics.meanConcurrentCalls = try reader.read()
        let score: Double = try reader.read()
        var reasons: [ClusterDecision.Reason] = []
        for _ in 0..<(try reader.readCount(limit: 64)) {
            let code: String = try reader.read()
            reasons.append(
                .init(code: code, value: try reader.read(), threshold: try reader.read()))
        }
        self.init(
            sims: sims, activeSince: activeSince, statistics: statistics, score: score,
            reasons: reasons)
    }
}

// MARK: - Checks of restored clusters

extension TrackedCluster {
    /// Whether a restored cluster refers only to SIMs held (a cluster's SIMs are never
    /// evicted) and restored locations, with times and figures in range.
    func isValid(in state: DetectorState, references: StateReferences, times: TimeBounds)
        -> Bool
    {
        let isHeld = { (sim: Int32) in state.history[sim].imsi != 0 }
        let count = state.history.count
        let figures = 0...(1 << 53)
        return sims.allSatisfy(isHeld) && last.sims.allSatisfy(isHeld)
            && (0..<references.locationCount).contains(Int(location))
            && times.contains(lastSeen) && (firstSeen == 0 || times.contains(firstSeen))
            && (id == nil || (1..<state.nextClusterID).contains(id ?? 0))
            && (0...count).contains(deviceCount) && (0...count).contains(peakSIMs)
            && figures.contains(callsOut) && last.isValid(times: times)
    }
}

extension Observation {
    func isValid(times: TimeBounds) -> Bool {
        let figures = 0...(1 << 53)
        let statistics = self.statistics
        let counts = [
            statistics.callsOut, statistics.callsIn, statistics.callsBetweenSIMs,
            statistics.distinctCallees,
        ]
        let measures = [
            statistics.meanDurationSeconds, statistics.answeredShare, statistics.callsPerMinute,
            statistics.meanConcurrentCalls, score,
        ]
        return (activeSince == 0 || times.contains(activeSince))
            && counts.allSatisfy(figures.contains)
            && measures.allSatisfy { $0.isFinite && $0 >= 0 && $0 < 1e15 }
            && reasons.allSatisfy {
                $0.code.utf8.count <= 64 && $0.value.isFinite && $0.threshold.isFinite
            }
    }
}
