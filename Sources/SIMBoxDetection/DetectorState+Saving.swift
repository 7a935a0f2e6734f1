import CDRRecords

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
        callees.save(into: &writer)
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

    func restore(from reader: inout StateReader) throws(StateError) {
        try history.restore(from: &reader)
        try counts.restore(from: &reader)
        guard counts.count == history.count else { throw .malformed("per-SIM tables differ") }
        simByIMSI = try IndexMap(restoring: &reader)
        simByMSISDN = try IndexMap(restoring: &reader)
        callees = try CalleeCounts(restoring: &reader)
        let simCount = Int32(history.count)
        func sim(_ reader: inout StateReader) throws(StateError) -> Int32 {
            let sim: Int32 = try reader.read()
            guard sim >= 0, sim < simCount else { throw .malformed("a SIM number") }
            return sim
        }
        busyCallers = [:]
        for _ in 0..<(try reader.readCount(elementBytes: 16)) {
            busyCallers[try sim(&reader)] = try reader.read() as UInt64
        }
        hot = []
        for _ in 0..<(try reader.readCount(elementBytes: 8)) { hot.append(try sim(&reader)) }
        newestTime = try reader.read()
        observedSince = try reader.read()
        evaluatedUpTo = try reader.read()
        nextSweep = try reader.read()
        freeNumbers = []
        for _ in 0..<(try reader.readCount(elementBytes: 8)) {
            freeNumbers.append(try sim(&reader))
        }
        quarantined = []
        for _ in 0..<(try reader.readCount(elementBytes: 16)) {
            quarantined.append((try sim(&reader), try reader.read()))
        }
        nextTrackingKey = try reader.read()
        nextClusterID = try reader.read()
        tracked = [:]
        for _ in 0..<(try reader.readCount(elementBytes: 8)) {
            let key: Int = try reader.read()
            tracked[key] = try TrackedCluster(restoring: &reader, simCount: simCount)
        }
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

    init(restoring reader: inout StateReader, simCount: Int32) throws(StateError) {
        var sims = Set<Int32>()
        for _ in 0..<(try reader.readCount(elementBytes: 8)) {
            let sim: Int32 = try reader.read()
            guard sim >= 0, sim < simCount else { throw .malformed("a cluster's SIM") }
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

    init(restoring reader: inout StateReader, simCount: Int32) throws(StateError) {
        var sims: [Int32] = []
        for _ in 0..<(try reader.readCount(elementBytes: 8)) {
            let sim: Int32 = try reader.read()
            guard sim >= 0, sim < simCount else { throw .malformed("an observed SIM") }
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
        for _ in 0..<(try reader.readCount(elementBytes: 24)) {
            let code: String = try reader.read()
            reasons.append(
                .init(code: code, value: try reader.read(), threshold: try reader.read()))
        }
        self.init(
            sims: sims, activeSince: activeSince, statistics: statistics, score: score,
            reasons: reasons)
    }
}
