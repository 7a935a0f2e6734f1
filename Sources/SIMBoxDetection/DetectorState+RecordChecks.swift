import CDRRecords
import SlidingWindows

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
