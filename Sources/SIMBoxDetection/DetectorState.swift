import CDRRecords
internal import CSupport
import SlidingWindows

/// The detector's state, kept in a class so the window's callbacks can update it while the
/// window itself is being mutated.
///
/// Laid out for a million SIMs that do not fit in any cache: each SIM is a dense number
/// into two arrays of structs, its 24-hour history (read when a record is admitted) and its
/// window counts (touched when a call enters or leaves), so each step costs one cache miss
/// where a structure of arrays cost one per field; IMSIs and MSISDNs find their number
/// through integer-keyed open-addressing tables instead of hashed dictionaries. Window steps
/// are queued and counted just before each evaluation, prefetching a few steps ahead, so
/// the misses overlap.
///
/// The storage is marked `@exclusivity(unchecked)`: the methods never hold an access to a
/// property while calling out to code that touches the same property, so the runtime's
/// dynamic checks (a fifth of the detector's instructions, measured with callgrind) buy
/// nothing.
final class DetectorState {
    let profile: DetectionProfile
    let windows: WindowConfiguration
    static let day: Int64 = 86_400_000

    // MARK: Per SIM

    @exclusivity(unchecked) var history: DenseStore<SIMHistory>
    @exclusivity(unchecked) var counts: DenseStore<SIMCounts>
    @exclusivity(unchecked) var simByIMSI: IndexMap
    @exclusivity(unchecked) var simByMSISDN: IndexMap
    @exclusivity(unchecked) var callees = CalleeCounts()
    /// Per SIM, the packed IMSI of the last SIM that called it while dialling out from the
    /// same place: kept aside, as only a box's channels have one.
    @exclusivity(unchecked) var busyCallers = BusyCallers()
    /// SIMs with at least `min_calls_per_sim` calls out in the window (or until the next
    /// evaluation notices they no longer have).
    @exclusivity(unchecked) var hot: [Int32] = []
    /// Window steps not yet counted: counted in order just before the next evaluation.
    @exclusivity(unchecked) var queuedSteps: [QueuedStep] = []
    /// Calls of flagged clusters' SIMs counted by `countQueuedSteps`, by tracking key, until
    /// it adds them to the clusters.
    @exclusivity(unchecked) var flaggedClusterCalls: [Int: Int] = [:]

    // MARK: The state cap

    let limits: StateLimits
    /// The largest event time admitted.
    var newestTime: Int64 = .min
    /// The earliest event time admitted, in this run or the runs it continues: how much of
    /// the SIMs' past the detector can know.
    var observedSince: Int64 = .max
    /// SIM numbers free for reuse.
    @exclusivity(unchecked) var freeNumbers: [Int32] = []
    /// Evicted SIMs whose calls may still be in the window: their numbers are reused only
    /// once `releaseAt` has passed, so the window's leave steps still find their counts.
    @exclusivity(unchecked) var quarantined: [(number: Int32, releaseAt: Int64)] = []
    /// The end of the last evaluated window: every call before it minus a width has left.
    var evaluatedUpTo: Int64 = .min
    /// No eviction sweep before this event time after one that freed nothing.
    var nextSweep: Int64 = .min
    var evictedSIMs = 0
    private(set) var shedRecords = 0
    /// Calls kept out of the window by the cap (`hasRoomInWindow`).
    var shedCalls = 0

    // MARK: Clusters

    /// Tracked clusters by an internal key (stable while the cluster lives).
    @exclusivity(unchecked) var tracked: [Int: TrackedCluster] = [:]
    var nextTrackingKey = 0
    var nextClusterID = 1

    init(profile: DetectionProfile, windows: WindowConfiguration, limits: StateLimits) {
        self.profile = profile
        self.windows = windows
        self.limits = limits
        history = DenseStore(capacity: limits.maxSIMs)
        counts = DenseStore(capacity: limits.maxSIMs)
        simByIMSI = IndexMap(capacity: 4096, numbers: limits.maxSIMs)
        simByMSISDN = IndexMap(capacity: 4096, numbers: limits.maxSIMs)
    }

    /// SIMs held now.
    var simCount: Int { simByIMSI.count }

    /// Bytes held by the per-SIM tables and the callee pairs (the window's events are counted
    /// by the detector).
    var bytes: Int {
        history.bytes + counts.bytes + simByIMSI.bytes + simByMSISDN.bytes + callees.bytes
            + queuedSteps.capacity * MemoryLayout<QueuedStep>.stride
    }

    // MARK: - Records in

    /// Starts loading the table slots admitting `record` will probe.
    @inline(__always)
    func prefetchSlots(_ record: CallRecord) {
        simByIMSI.prefetch(record.imsi.rawValue)
        if record.type == .mtc, let peer = record.peer { simByMSISDN.prefetch(peer.rawValue) }
    }

    /// Starts loading the SIM records admitting `record` will read; its slots should be in
    /// the cache by now (see `prefetchSlots`).
    ///
    /// - Returns: the SIM number its IMSI's tag finds (or -1), for `admit` to check.
    @inline(__always)
    func prefetchRecords(_ record: CallRecord) -> Int32 {
        let sim = simByIMSI.likelyNumber(for: record.imsi.rawValue)
        if sim >= 0, Int(sim) < history.count { history.prefetch(sim) }
        if record.type == .mtc, let peer = record.peer {
            let caller = simByMSISDN.likelyNumber(for: peer.rawValue)
            if caller >= 0, Int(caller) < history.count { history.prefetch(caller) }
        }
        if sim >= 0, Int(sim) < counts.count, record.type == .moc || record.type == .mtc {
            counts.prefetch(sim)  // its calls held in the window are counted at admission
        }
        return sim
    }

    /// Whether a call of `sim` may enter a window holding `liveCalls` calls.
    ///
    /// Up to half of `StateLimits.maxWindowCalls` every call may; beyond, only those of SIMs
    /// holding fewer than `heavySIMCalls` (a flood's few busy SIMs are shed first, a box's
    /// channels and people go on being counted); at the limit, none. No SIM holds more than
    /// 65,535 calls (a SIM places one call at a time: that is 18 a second for an hour).
    @inline(__always)
    func hasRoomInWindow(for sim: Int32, liveCalls: Int) -> Bool {
        let held = counts[sim].heldCalls
        guard held < .max else { return false }
        guard liveCalls >= limits.maxWindowCalls / 2 else { return true }
        return liveCalls < limits.maxWindowCalls && Int(held) < limits.heavySIMCalls
    }

    /// Updates the SIM's identity and 24-hour history, and makes the record's window event.
    ///
    /// - Parameter likelySIM: the SIM number `prefetchRecords` found, or any other: it is
    ///   taken when that SIM has the record's IMSI (a live SIM's IMSI is its own, and an
    ///   evicted one's is 0), and the IMSI is looked up otherwise.
    /// - Returns: `nil` when the state cap left no room for a new SIM (the record is shed).
    func admit(_ record: CallRecord, location: Int32, likelySIM: Int32 = -1) -> WindowEvent? {
        let time = record.eventTime.millisecondsSinceEpoch
        newestTime = max(newestTime, time)
        observedSince = min(observedSince, time)
        let key = record.imsi.rawValue
        var sim = likelySIM
        if sim < 0 || Int(sim) >= history.count || history[sim].imsi != key {
            sim = simByIMSI.number(for: key) { history[$0].imsi == key }
        }
        if sim < 0 {
            sim = allocate(key)
            guard sim >= 0 else {
                shedRecords += 1
                return nil
            }
        }
        let entry = history.pointer(to: sim)
        entry.pointee.noteSeen(at: time)
        if let number = record.msisdn, entry.pointee.msisdn == 0 {
            entry.pointee.msisdn = number.rawValue
            simByMSISDN.insert(number.rawValue, number: sim) { history[$0].msisdn }
        }
        if let imei = record.imei, entry.pointee.imei0 != imei.rawValue {
            entry.pointee.imei1 = entry.pointee.imei0
            entry.pointee.imei0 = imei.rawValue
        }
        entry.pointee.lastCell = record.cell.rawValue
        entry.pointee.note(location, at: time)
        switch record.type {
        case .data:
            entry.pointee.noteDataSession(at: time)
        case .moc:
            entry.pointee.noteCall(at: time)
        case .mtc, .smsMO, .smsMT:
            break
        }
        var fromBusy = false
        if record.type == .mtc, let peer = record.peer {
            let number = peer.rawValue
            let caller = simByMSISDN.number(for: number) { history[$0].msisdn == number }
            if caller >= 0 {
                // A call from a SIM that is dialling out from the same place: a sibling
                // channel. (Read from the admission-time history: window counts lag by the
                // lateness.)
                let callerHistory = history[caller]
                fromBusy = callerHistory.hasCalled && callerHistory.location == location
                if fromBusy { busyCallers[sim] = callerHistory.imsi }
            }
        }
        // Only a call's event enters the window (see `CatPoolDetector.apply`).
        return WindowEvent(
            peer: record.peer?.rawValue ?? 0, sim: sim,
            durationSeconds: record.durationSeconds ?? -1,
            isReceived: record.type == .mtc, isFromBusySIM: fromBusy)
    }

    // MARK: - Window steps

    func apply(_ step: SlidingWindow<WindowEvent>.Step, into decisions: inout [ClusterDecision]) {
        switch step {
        case .enter(let event): queuedSteps.append(QueuedStep(event: event, delta: 1))
        case .leave(let event): queuedSteps.append(QueuedStep(event: event, delta: -1))
        case .evaluate(let end):
            countQueuedSteps()
            evaluatedUpTo = end
            evaluate(windowEnd: end, into: &decisions)
            checkInvariants(evaluation: Int(end / windows.hopMilliseconds))
        }
    }

    /// Counts the queued steps in order, loading the SIMs and callee pairs of later steps
    /// while earlier ones are counted.
    func countQueuedSteps() {
        let lookahead = 12
        let steps = queuedSteps.count
        for index in 0..<steps {
            if index + lookahead < steps {
                let ahead = queuedSteps[index + lookahead].event
                counts.prefetch(ahead.sim)
                // Loaded whether or not the SIM's one callee is in its counts: to know, the
                // counts would have to be read, and that read waits for memory.
                if ahead.type == .moc, ahead.peer != 0 {
                    callees.prefetch(sim: ahead.sim, peer: ahead.peer)
                }
            }
            let step = queuedSteps[index]
            count(step.event, by: step.delta)
        }
        queuedSteps.removeAll(keepingCapacity: true)
        for (key, calls) in flaggedClusterCalls { tracked[key]?.callsOut += calls }
        flaggedClusterCalls.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private func count(_ event: WindowEvent, by delta: Int32) {
        let sim = counts.pointer(to: event.sim)
        tally(event, by: delta, into: sim)
        if delta < 0 { sim.pointee.heldCalls -= 1 }  // counted up as it was inserted
        guard event.type == .moc, delta > 0 else { return }
        if sim.pointee.isInFlaggedCluster {
            // Rare (a flagged box's calls), so the history's cache miss is paid only here.
            // Added to the cluster once the steps are counted: modifying the cluster in place
            // here copied it (about 850 instructions a call).
            flaggedClusterCalls[Int(history[event.sim].cluster), default: 0] += 1
        }
        if !sim.pointee.isHot, Double(sim.pointee.callsOut) >= profile.minCallsPerSIM {
            sim.pointee.isHot = true
            hot.append(event.sim)
        }
    }

    /// Adds a call entering the window (`delta` 1) to its SIM's aggregates and the callee
    /// pairs, or takes one leaving (-1) away.
    @inline(__always)
    func tally(_ event: WindowEvent, by delta: Int32, into sim: UnsafeMutablePointer<SIMCounts>) {
        switch event.type {
        case .moc:
            sim.pointee.callsOut.step(delta)
            // Seconds wrap rather than trap: enter and leave cancel exactly either way.
            let seconds = Int32(clamping: max(event.durationSeconds, 0))
            if event.durationSeconds > 0 {
                sim.pointee.answered.step(delta)
                sim.pointee.answeredSeconds &+= delta &* seconds
            }
            // Talk time, or about 20 s of ringing for an unanswered call.
            sim.pointee.busySeconds &+= delta &* (event.durationSeconds > 0 ? seconds : 20)
            if event.peer != 0 {
                if delta > 0 {
                    if addCallee(event.peer, of: event.sim, counts: sim) {
                        sim.pointee.distinctCallees.step(1)
                    }
                } else if removeCallee(event.peer, of: event.sim, counts: sim) {
                    sim.pointee.distinctCallees.step(-1)
                }
            }
        case .mtc:
            if event.isFromBusySIM {
                sim.pointee.callsInFromBusy.step(delta)
            } else {
                sim.pointee.callsInExternal.step(delta)
            }
        case .smsMO, .smsMT, .data:
            break
        }
    }

    /// Counts a call to `peer` entering the window; `true` when it is the SIM's first call
    /// to that number in the window.
    ///
    /// A SIM's first callee stays in its counts (`SIMCounts.soloPeer`) until it calls a
    /// second number; then both go to the callee pairs, and the SIM's later callees with
    /// them, until it has no call with a callee in the window.
    @inline(__always)
    private func addCallee(
        _ peer: UInt64, of sim: Int32, counts: UnsafeMutablePointer<SIMCounts>
    ) -> Bool {
        guard counts.pointee.distinctCallees > 0 else {
            counts.pointee.soloPeer = peer
            counts.pointee.soloCalls = 1
            return true
        }
        let solo = counts.pointee.soloPeer
        if solo != 0 {
            guard solo != peer else {
                counts.pointee.soloCalls += 1  // at most its held calls: 16 bits
                return false
            }
            callees.insert(sim: sim, peer: solo, count: Int32(counts.pointee.soloCalls))
            counts.pointee.soloPeer = 0
            counts.pointee.soloCalls = 0
        }
        return callees.add(sim: sim, peer: peer)
    }

    /// Counts a call to `peer` leaving the window; `true` when it was the SIM's last call to
    /// that number in the window.
    @inline(__always)
    private func removeCallee(
        _ peer: UInt64, of sim: Int32, counts: UnsafeMutablePointer<SIMCounts>
    ) -> Bool {
        let solo = counts.pointee.soloPeer
        guard solo == 0 else {
            precondition(solo == peer, "a call left the window without entering it")
            counts.pointee.soloCalls -= 1
            guard counts.pointee.soloCalls == 0 else { return false }
            counts.pointee.soloPeer = 0
            return true
        }
        return callees.remove(sim: sim, peer: peer)
    }

    // MARK: - Evaluation

    private func evaluate(windowEnd end: Int64, into decisions: inout [ClusterDecision]) {
        var candidates = Candidates()
        let lookahead = 8
        // In place through a buffer: thousands of SIMs a minute, and each write to the array
        // checked that its storage was unshared.
        let stillHot = hot.withUnsafeMutableBufferPointer { hot in
            var stillHot = 0
            for index in hot.indices {
                if index + lookahead < hot.count {
                    // Each SIM is two records in memory: overlap the misses.
                    counts.prefetch(hot[index + lookahead])
                    history.prefetch(hot[index + lookahead])
                }
                let sim = hot[index]
                let counts = self.counts.pointer(to: sim)
                guard Double(counts.pointee.callsOut) >= profile.minCallsPerSIM,
                    history[sim].imsi != 0
                else {
                    counts.pointee.isHot = false
                    continue
                }
                hot[stillHot] = sim
                stillHot += 1
                // Records are admitted up to the lateness ahead of the evaluated window: a SIM
                // that has moved since the window ended made its calls elsewhere, so it is no
                // new candidate here (a flagged cluster's SIM goes on with it wherever it is).
                let hasMovedSince =
                    history[sim].arrival > end && !counts.pointee.isInFlaggedCluster
                if !hasMovedSince, isChannelCandidate(sim, at: end) {
                    candidates.append(sim, at: history[sim].location)
                }
            }
            return stillHot
        }
        hot.removeLast(hot.count - stillHot)
        track(candidates, end: end, into: &decisions)
    }

    private func isChannelCandidate(_ sim: Int32, at end: Int64) -> Bool {
        let counts = self.counts[sim]
        let history = self.history[sim]
        let out = Double(counts.callsOut)
        let outbound = out / (out + Double(counts.callsInExternal))
        let distinct = Double(counts.distinctCallees) / out
        let answeredShare = Double(counts.answered) / out
        let meanAnswered =
            counts.answered > 0 ? Double(counts.answeredSeconds) / Double(counts.answered) : 0
        let data = end - history.dataDayStart < Self.day ? Double(history.dataInDay) : 0
        return outbound >= profile.minOutboundShare && distinct >= profile.minDistinctCalleeShare
            && answeredShare <= profile.maxAnsweredShare
            && meanAnswered <= profile.maxMeanAnsweredSeconds
            && data <= profile.maxDataSessions24h
    }
}
