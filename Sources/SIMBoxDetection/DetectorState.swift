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
    @exclusivity(unchecked) var simByIMSI = IndexMap(capacity: 4096)
    @exclusivity(unchecked) var simByMSISDN = IndexMap(capacity: 4096)
    @exclusivity(unchecked) var callees = CalleeCounts()
    /// Per SIM, the packed IMSI of the last SIM that called it while dialling out from the
    /// same place: kept aside, as only a box's channels have one.
    @exclusivity(unchecked) var busyCallers: [Int32: UInt64] = [:]
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
    @inline(__always)
    func prefetchRecords(_ record: CallRecord) {
        let sim = simByIMSI.likelyNumber(for: record.imsi.rawValue)
        if sim >= 0, Int(sim) < history.count { history.prefetch(sim) }
        if record.type == .mtc, let peer = record.peer {
            let caller = simByMSISDN.likelyNumber(for: peer.rawValue)
            if caller >= 0, Int(caller) < history.count { history.prefetch(caller) }
        }
        if sim >= 0, Int(sim) < counts.count, record.type == .moc || record.type == .mtc {
            counts.prefetch(sim)  // its calls held in the window are counted at admission
        }
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
    /// - Returns: `nil` when the state cap left no room for a new SIM (the record is shed).
    func admit(_ record: CallRecord, location: Int32) -> WindowEvent? {
        let time = record.eventTime.millisecondsSinceEpoch
        newestTime = max(newestTime, time)
        observedSince = min(observedSince, time)
        let key = record.imsi.rawValue
        var sim = simByIMSI.number(for: key) { history[$0].imsi == key }
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
            simByMSISDN.insert(number.rawValue, number: sim)
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
        return WindowEvent(
            peer: record.peer?.rawValue ?? 0, sim: sim,
            durationSeconds: record.durationSeconds ?? -1,
            type: record.type, isFromBusySIM: fromBusy)
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
            sim.pointee.callsOut += delta
            // Seconds wrap rather than trap: enter and leave cancel exactly either way.
            let seconds = Int32(clamping: max(event.durationSeconds, 0))
            if event.durationSeconds > 0 {
                sim.pointee.answered += delta
                sim.pointee.answeredSeconds &+= delta &* seconds
            }
            // Talk time, or about 20 s of ringing for an unanswered call.
            sim.pointee.busySeconds &+= delta &* (event.durationSeconds > 0 ? seconds : 20)
            if event.peer != 0 {
                if delta > 0 {
                    if callees.add(sim: event.sim, peer: event.peer) {
                        sim.pointee.distinctCallees += 1
                    }
                } else if callees.remove(sim: event.sim, peer: event.peer) {
                    sim.pointee.distinctCallees -= 1
                }
            }
        case .mtc:
            if event.isFromBusySIM {
                sim.pointee.callsInFromBusy += delta
            } else {
                sim.pointee.callsInExternal += delta
            }
        case .smsMO, .smsMT, .data:
            break
        }
    }

    // MARK: - Evaluation

    private func evaluate(windowEnd end: Int64, into decisions: inout [ClusterDecision]) {
        var byLocation: [Int32: [Int32]] = [:]
        var stillHot = 0
        let lookahead = 8
        for index in hot.indices {
            if index + lookahead < hot.count {
                // A few thousand SIMs a minute, each two records in memory: overlap the misses.
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
            // that has moved since the window ended made its calls elsewhere, so it is no new
            // candidate here (a flagged cluster's SIM goes on with it wherever it is).
            let hasMovedSince = history[sim].arrival > end && !counts.pointee.isInFlaggedCluster
            if !hasMovedSince, isChannelCandidate(sim, at: end) {
                byLocation[history[sim].location, default: []].append(sim)
            }
        }
        hot.removeLast(hot.count - stillHot)
        track(byLocation, end: end, into: &decisions)
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

/// What the detector remembers of a SIM between records: identity and 24 hours of history,
/// in one 64-byte cache line.
///
/// Times are kept as seconds since 1990-01-01 in 32 bits (the parser rejects anything
/// earlier; they saturate in 2126), read and written in event-time milliseconds.
struct SIMHistory {
    /// The packed IMSI; 0 once the SIM is evicted.
    var imsi: UInt64
    /// The SIM's own number, packed; 0 while unknown.
    var msisdn: UInt64 = 0
    /// The two most recent distinct IMEIs, packed; 0: none.
    var imei0: UInt64 = 0
    var imei1: UInt64 = 0
    private var arrivalSeconds: UInt32 = 0
    private var lastCallSeconds: UInt32 = 0
    private var lastSeenSeconds: UInt32 = 0
    private var dataDayStartSeconds: UInt32 = 0
    var lastCell: UInt32 = 0
    /// Where the SIM's latest record was (-1: nowhere yet).
    private(set) var location: Int32 = -1
    /// The tracked cluster the SIM belongs to (-1: none): a SIM is in one cluster at most.
    var cluster: Int32 = -1
    /// Data sessions since `dataDayStart` (saturating).
    private(set) var dataInDay: UInt16 = 0
    /// A 16-bit tag of the place the SIM came from to `location` (0: never seen elsewhere).
    ///
    /// People reach a place each from their own; a box's SIMs were nowhere else, or moved
    /// together.
    private(set) var originTag: UInt16 = 0

    init(imsi: UInt64) { self.imsi = imsi }

    private static let epochSeconds: Int64 = 631_152_000  // 1990-01-01T00:00:00Z

    @inline(__always)
    private static func seconds(_ milliseconds: Int64) -> UInt32 {
        UInt32(clamping: milliseconds / 1000 - epochSeconds)
    }

    @inline(__always)
    private static func milliseconds(_ seconds: UInt32) -> Int64 {
        (Int64(seconds) + epochSeconds) * 1000
    }

    /// Whether the SIM has placed a call.
    var hasCalled: Bool { lastCallSeconds != 0 }
    /// The SIM's first record at `location` since it came there.
    var arrival: Int64 { Self.milliseconds(arrivalSeconds) }
    /// Whether the SIM was seen somewhere else before `location`.
    var cameFromElsewhere: Bool { originTag != 0 }
    /// The latest call placed (admission time, not window time; `.min`: none).
    var lastCall: Int64 { hasCalled ? Self.milliseconds(lastCallSeconds) : .min }
    /// The latest record of any kind: what eviction goes by.
    var lastSeen: Int64 { Self.milliseconds(lastSeenSeconds) }
    /// When the current 24 hours of data sessions started.
    var dataDayStart: Int64 { Self.milliseconds(dataDayStartSeconds) }

    @inline(__always)
    mutating func noteSeen(at time: Int64) {
        lastSeenSeconds = max(lastSeenSeconds, Self.seconds(time))
    }

    @inline(__always)
    mutating func noteCall(at time: Int64) {
        lastCallSeconds = max(lastCallSeconds, Self.seconds(time))
    }

    /// Moves the SIM to `place` when a record shows it there; a late record from before its
    /// arrival where it is now changes nothing (it tells of where the SIM was).
    @inline(__always)
    mutating func note(_ place: Int32, at time: Int64) {
        let seconds = Self.seconds(time)
        guard place != location else {
            arrivalSeconds = min(arrivalSeconds, seconds)
            return
        }
        guard location < 0 || seconds >= arrivalSeconds else { return }
        if location >= 0 { originTag = Self.tag(location) }
        location = place
        arrivalSeconds = seconds
    }

    /// A nonzero 16-bit tag of a location: SIMs from one place share it.
    static func tag(_ location: Int32) -> UInt16 {
        let mixed = UInt32(bitPattern: location) &* 0x9E37_79B1
        return max(1, UInt16(truncatingIfNeeded: mixed >> 16))
    }

    @inline(__always)
    mutating func noteDataSession(at time: Int64) {
        let seconds = Self.seconds(time)
        if seconds &- dataDayStartSeconds >= 86_400 || seconds < dataDayStartSeconds {
            dataDayStartSeconds = seconds
            dataInDay = 0
        }
        if dataInDay < .max { dataInDay += 1 }
    }
}

/// A SIM's aggregates over the calls now in the window, kept exact by enter and leave steps.
struct SIMCounts {
    var callsOut: Int32 = 0
    var callsInExternal: Int32 = 0
    var callsInFromBusy: Int32 = 0
    var answered: Int32 = 0
    var distinctCallees: Int32 = 0
    var answeredSeconds: Int32 = 0
    var busySeconds: Int32 = 0
    var isHot = false
    /// Its calls add to a flagged cluster's lifetime count.
    var isInFlaggedCluster = false
    /// Its calls the window holds, pending or counted.
    ///
    /// What the cap on the window's calls goes by (see `DetectorState.hasRoomInWindow`). It
    /// fills what was padding.
    var heldCalls: UInt16 = 0

    var isEmpty: Bool {
        callsOut == 0 && callsInExternal == 0 && callsInFromBusy == 0 && answered == 0
            && distinctCallees == 0 && answeredSeconds == 0 && busySeconds == 0 && heldCalls == 0
    }
}

/// A window step waiting to be counted.
struct QueuedStep {
    var event: WindowEvent
    var delta: Int32
}

/// A fixed-capacity array of plain structs addressed by SIM number, cache-line aligned, with
/// no copy-on-write and no bounds check in release builds: the detector's only handles to it
/// are numbers it issued.
///
/// The whole capacity (the state cap's worth) is reserved at once and never moved: the
/// system maps pages only as they are first written, so memory follows the SIMs actually
/// seen, and no growth ever copies a million records.
final class DenseStore<Element> {
    private(set) var count = 0
    let capacity: Int
    private let base: UnsafeMutablePointer<Element>

    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(
            byteCount: max(1, capacity) * MemoryLayout<Element>.stride, alignment: 64
        ).bindMemory(to: Element.self, capacity: capacity)
    }

    deinit {
        base.deinitialize(count: count)
        UnsafeMutableRawPointer(base).deallocate()
    }

    /// Bytes in use (pages never written cost nothing).
    var bytes: Int { count * MemoryLayout<Element>.stride }

    subscript(number: Int32) -> Element {
        @inline(__always) get {
            assert(number >= 0 && Int(number) < count)
            return base[Int(number)]
        }
        @inline(__always) set {
            assert(number >= 0 && Int(number) < count)
            base[Int(number)] = newValue
        }
    }

    @inline(__always)
    func pointer(to number: Int32) -> UnsafeMutablePointer<Element> {
        assert(number >= 0 && Int(number) < count)
        return base + Int(number)
    }

    @inline(__always)
    func prefetch(_ number: Int32) {
        // Both ends: an element may straddle two cache lines.
        let start = UnsafeRawPointer(base + Int(number))
        catpool_prefetch(start)
        catpool_prefetch(start + (MemoryLayout<Element>.size - 1))
    }

    func save(into writer: inout StateWriter) { writer.writeRaw(base, count: count) }

    /// Replaces the contents with what `save` wrote (plain structs, copied as bytes).
    ///
    /// - Parameter isValid: checks one element's bytes before it is read as an `Element`
    ///   (a `Bool` or an enum takes only some bit patterns).
    func restore(from reader: inout StateReader, isValid: (UnsafeRawPointer) -> Bool)
        throws(StateError)
    {
        base.deinitialize(count: count)
        count = 0
        let restored = try reader.readRaw(into: base, capacity: capacity)
        for index in 0..<restored
        where !isValid(UnsafeRawPointer(base + index)) {
            throw .malformed("a SIM's record")
        }
        count = restored
    }

    func append(_ element: Element) {
        precondition(count < capacity, "DenseStore is full")
        (base + count).initialize(to: element)
        count += 1
    }
}
