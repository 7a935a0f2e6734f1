import CDRRecords
import SlidingWindows

/// Finds cat pools: clusters of SIMs at one location that behave like the channels of a
/// GOIP gateway.
///
/// `SIMBoxDetection` turns records into cluster decisions. It imports `CDRRecords` for the
/// record types and `SlidingWindows` for event time; `CDRPipeline` feeds it records with
/// their location and writes its decisions.
///
/// How it decides, at every evaluated window `[t − width, t)`:
/// 1. **Channel candidates.** A SIM is a candidate when, in the window, it placed at least
///    `min_calls_per_sim` calls, at least `min_outbound_share` of its calls were outbound
///    (calls in from SIMs dialling out from the same location are not counted as inbound: a
///    box's channels calling each other fake inbound traffic), at least
///    `min_distinct_callee_share` went to distinct numbers, at most `max_answered_share` were
///    answered, answered calls lasted `max_mean_answered_seconds` or less on average, and it
///    had at most `max_data_sessions_24h` data sessions in the 24 hours of event time before.
///    Per-SIM thresholds are deliberately loose: boxes cap each SIM's volume, so the signal
///    is the location.
/// 2. **Clusters.** Each SIM belongs to at most one tracked cluster. A candidate in a
///    cluster continues it wherever it is now; a candidate in none joins the cluster with
///    most members at its location, or, where there is none, `min_sims` newcomers or more
///    found one. So two boxes at one site stay apart once known, and a box in a vehicle
///    keeps its identity as it passes others. Each cluster's candidates are scored in
///    [0, 1] from their number, outbound share, callee diversity, unanswered share, call
///    rate, absence of data, and device structure; each feature is reported as a reason.
/// 3. **Devices.** Within a cluster, SIMs are linked into devices when they share an IMEI
///    (one channel, or SIMs rotated through it by a SIM bank), when their IMEIs have one TAC
///    and serial numbers at most 64 apart, or when they call each other.
/// 4. **Decisions.** A cluster is `flagged` the first time its score reaches
///    `score_threshold` with at least `min_sims` candidates, `updated` when it then gains
///    SIMs or devices or moves (its location is where most of its candidates are), and
///    `closed` when its SIMs have placed no call for a whole window (or none has been a
///    candidate for as long).
///
/// State: per SIM its history and window counts (120 bytes with its table slots), the
/// window's calls, and the callee pairs of the window. Nothing grows with the input's
/// length; the number of SIMs held is capped by `StateLimits`, beyond which the least
/// recently active SIMs are evicted (see `evictedSIMs` and `shedRecords`), and so is the
/// number of calls in the window, beyond which the busiest SIMs' calls are dropped first
/// (`shedCalls`). Dropped records still move event time on.
///
/// Noncopyable: its tables are a class the window is not part of, so a copy would share
/// the one and not the other.
public struct CatPoolDetector: ~Copyable {
    public let profile: DetectionProfile
    public let windows: WindowConfiguration
    private var window: SlidingWindow<WindowEvent>
    private let state: DetectorState
    /// How far ahead of the record applied a batch's table slots are prefetched; SIM records
    /// are prefetched half as far ahead (`recordLead`), once their slots are in (measured: 16
    /// beats 8 and 32 on a city day).
    private static let lookahead = 2 * recordLead
    /// How far ahead SIM records are prefetched: a power of two, as a record's place in the
    /// ring of SIM numbers found on the way is its index masked.
    private static let recordLead = 8

    /// Records too late for any open window, counted and dropped.
    public var lateRecords: Int { window.lateCount }
    /// The window's watermark: a call before it is late.
    ///
    /// The newest call's time less the allowed lateness; `nil` before the first call.
    public var watermark: EventTime? {
        window.watermark.map(EventTime.init(millisecondsSinceEpoch:))
    }
    /// SIMs held now.
    public var simCount: Int { state.simCount }
    /// SIMs evicted to stay within the state cap.
    public var evictedSIMs: Int { state.evictedSIMs }
    /// Records dropped because the cap was reached by SIMs all still live in the window.
    public var shedRecords: Int { state.shedRecords }
    /// Calls kept out of the window by the cap: the busiest SIMs' once the window holds half
    /// its share of the cap, any once it holds all of it (see `StateLimits.maxWindowCalls`).
    public var shedCalls: Int { state.shedCalls }
    /// Bytes of state held now: per-SIM tables, callee pairs and the window's calls.
    public var stateBytes: Int {
        state.bytes + window.liveCount * MemoryLayout<WindowEvent>.stride
    }

    public init(profile: DetectionProfile, limits: StateLimits = .standard)
        throws(WindowConfiguration.Invalid)
    {
        self.profile = profile
        windows = try WindowConfiguration(
            widthMilliseconds: Int64((profile.windowMinutes * 60_000).rounded()),
            hopMilliseconds: Int64((profile.hopMinutes * 60_000).rounded()),
            latenessMilliseconds: Int64((profile.latenessMinutes * 60_000).rounded()))
        window = SlidingWindow(configuration: windows)
        state = DetectorState(profile: profile, windows: windows, limits: limits)
    }

    /// Applies one record seen at `location` now; decisions made on the way are appended.
    ///
    /// Only calls enter the windows: data records change no window aggregate, only the
    /// SIM's 24-hour history, so they skip the window.
    ///
    /// - Returns: `false` when a call was too late for any open window (it still updates the
    ///   SIM's 24-hour history) or shed by the state cap.
    @discardableResult
    private mutating func apply(
        _ record: CallRecord, location: Int32, likelySIM: Int32, state: DetectorState,
        into decisions: inout [ClusterDecision]
    ) -> Bool {
        guard Self.uses(record.type) else { return true }
        let time = record.eventTime.millisecondsSinceEpoch
        // The window's steps reach the state through an unretained reference (`feed` holds
        // it): captured strongly, it was retained and released around each step, two atomic
        // operations for every call entering and leaving the window (7 % of the detector's
        // instructions on a dense city).
        let guaranteed = Unmanaged.passUnretained(state)
        guard let event = state.admit(record, location: location, likelySIM: likelySIM) else {
            // A shed record still moves event time on, so windows keep closing and evicted
            // SIMs' numbers come free for new ones: a flood of new SIMs cannot blind the
            // detector for good (#13 row 7).
            window.advance(toEventTime: time) { step in
                guaranteed._withUnsafeGuaranteedRef { $0.apply(step, into: &decisions) }
            }
            return false
        }
        guard record.type == .moc || record.type == .mtc else { return true }
        guard state.hasRoomInWindow(for: event.sim, liveCalls: window.liveCount) else {
            state.shedCalls += 1
            window.advance(toEventTime: time) { step in
                guaranteed._withUnsafeGuaranteedRef { $0.apply(step, into: &decisions) }
            }
            return false
        }
        let placement = window.insert(event, at: time) { step in
            guaranteed._withUnsafeGuaranteedRef { $0.apply(step, into: &decisions) }
        }
        guard placement != .late else { return false }
        state.counts.pointer(to: event.sim).pointee.heldCalls += 1
        return true
    }

    /// Whether records of `type` matter to the detector: calls and data sessions do; SMS
    /// do not (no feature counts them, and a SIM's identity comes with its calls), so a
    /// caller may skip them — a quarter of a day's records, and as many cache misses.
    /// (Inlinable: the pipeline asks for every record, from another module.)
    @inlinable
    public static func uses(_ type: RecordType) -> Bool {
        type == .moc || type == .mtc || type == .data
    }

    /// Feeds a batch of records, each with the location it was seen at, in order; decisions
    /// made on the way are appended.
    ///
    /// While one record is applied, the table slots of the record `lookahead` later and the
    /// SIM records of the one half as far are loaded: consecutive records' cache misses then
    /// overlap instead of following one another. The SIM number found on the way is kept for
    /// when the record is applied, which then checks it instead of looking the IMSI up again.
    /// The records are read in place (a batch of parsed records is already in memory), and
    /// the decisions are those of applying each record at once, in the same order.
    ///
    /// SMS records carry nothing the detector uses (see `uses(_:)`) and are ignored.
    public mutating func feed(
        _ batch: UnsafeBufferPointer<LocatedRecord>, into decisions: inout [ClusterDecision]
    ) {
        let count = batch.count
        let recordLead = Self.recordLead
        // Read once and lent to each record's `apply`, which passes it on unretained.
        let state = self.state
        for index in 0..<min(Self.lookahead, count) { state.prefetchSlots(batch[index].record) }
        // The SIM numbers found for the records yet to apply, by index mod `recordLead`.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: recordLead) { likelySIMs in
            for index in 0..<min(recordLead, count) {
                likelySIMs[index] = state.prefetchRecords(batch[index].record)
            }
            for index in 0..<count {
                if index &+ Self.lookahead < count {
                    state.prefetchSlots(batch[index &+ Self.lookahead].record)
                }
                let place = index & (recordLead &- 1)
                let likelySIM = likelySIMs[place]
                if index &+ recordLead < count {
                    likelySIMs[place] = state.prefetchRecords(batch[index &+ recordLead].record)
                }
                apply(
                    batch[index].record, location: batch[index].location, likelySIM: likelySIM,
                    state: state, into: &decisions)
            }
        }
    }

    /// Feeds one record seen at `location` (a batch of one: for tests and tools; the pipeline
    /// feeds batches).
    public mutating func feed(
        _ record: CallRecord, location: Int32, into decisions: inout [ClusterDecision]
    ) {
        var one = LocatedRecord(record: record, location: location)
        withUnsafePointer(to: &one) { pointer in
            feed(UnsafeBufferPointer(start: pointer, count: 1), into: &decisions)
        }
    }

    // MARK: - Saving between runs

    /// Writes everything needed to continue: the window's calls and position, every table.
    ///
    /// Call it instead of `finish` at the end of an input a later run continues: the windows
    /// the newest records have not yet made due stay open for the next input's records.
    public func save(into writer: inout StateWriter) {
        writer.write(windows.widthMilliseconds)
        writer.write(windows.hopMilliseconds)
        writer.write(windows.latenessMilliseconds)
        for size in DetectorState.layoutFingerprint { writer.write(size) }
        let snapshot = window.snapshot
        writer.write(snapshot.maxEventTime ?? .min)
        writer.write(snapshot.nextWindowEnd ?? .min)
        writer.write(snapshot.buckets.count)
        for (number, events) in snapshot.buckets {
            writer.write(number)
            events.withUnsafeBufferPointer { events in
                if let base = events.baseAddress {
                    writer.writeRaw(base, count: events.count)
                } else {
                    writer.write(0)
                }
            }
        }
        state.save(into: &writer)
    }

    /// A detector continuing the one `save` wrote; its counts of late and shed records and
    /// evicted SIMs start again from zero (they are the new run's).
    ///
    /// Restoring is total: whatever the bytes, it returns a detector that runs, or throws.
    /// Every count, SIM number, cell, location and time is checked against what was
    /// restored before it, the window's position against its calls, and the per-SIM
    /// window counts against the calls (the callee pairs are counted again from them).
    ///
    /// - Parameter references: the cells and locations restored with the detector.
    /// - Throws: `StateError` when the saved windows differ from `profile`'s, the file comes
    ///   from a build with other record layouts, or it is damaged or forged.
    public init(
        profile: DetectionProfile, limits: StateLimits = .standard,
        references: StateReferences, restoring reader: inout StateReader
    ) throws(StateError) {
        // Built in a local first: a noncopyable `self` cannot be left initialized on some
        // paths and not on others, as a throw midway would leave it.
        self = try Self.restored(
            profile: profile, limits: limits, references: references, reader: &reader)
    }

    private static func restored(
        profile: DetectionProfile, limits: StateLimits, references: StateReferences,
        reader: inout StateReader
    ) throws(StateError) -> CatPoolDetector {
        guard var detector = try? CatPoolDetector(profile: profile, limits: limits) else {
            throw .incompatible("the profile's windows are invalid")
        }
        let windows = detector.windows
        let saved = (
            try reader.read() as Int64, try reader.read() as Int64, try reader.read() as Int64
        )
        guard
            saved
                == (
                    windows.widthMilliseconds, windows.hopMilliseconds,
                    windows.latenessMilliseconds
                )
        else {
            throw .incompatible(
                "saved with windows of \(saved.0 / 60_000)/\(saved.1 / 60_000)/\(saved.2 / 60_000) minutes (width/hop/lateness), not this profile's"
            )
        }
        for size in DetectorState.layoutFingerprint {
            guard try reader.read() as Int == size else {
                throw .incompatible("written by a build with other record layouts")
            }
        }
        let maxEventTime: Int64 = try reader.read()
        let nextWindowEnd: Int64 = try reader.read()
        let live = try Self.liveBuckets(
            maxEventTime: maxEventTime, nextWindowEnd: nextWindowEnd, windows: windows)
        var buckets: [(number: Int64, events: [WindowEvent])] = []
        // The window held at most its share of the cap (this run's: a smaller one refuses).
        var room = limits.maxWindowCalls
        for _ in 0..<(try reader.readCount(limit: live.count)) {
            let number: Int64 = try reader.read()
            guard live.contains(number), number > buckets.last?.number ?? .min else {
                throw .malformed("the window's buckets")
            }
            let raw = try reader.readRawAllocating(of: WindowEvent.self, limit: room)
            room -= raw.count
            defer { raw.deallocate() }
            buckets.append((number, Array(raw)))
        }
        try detector.state.restore(
            from: &reader, window: buckets,
            enteredBefore: nextWindowEnd == .min
                ? .min : nextWindowEnd / windows.hopMilliseconds - 1,
            references: references)
        do {
            detector.window = try SlidingWindow(
                configuration: windows,
                restoring: .init(
                    maxEventTime: maxEventTime == .min ? nil : maxEventTime,
                    nextWindowEnd: nextWindowEnd == .min ? nil : nextWindowEnd,
                    buckets: buckets))
        } catch {
            throw .malformed("the window's buckets")
        }
        return detector
    }

    /// The hop buckets a window saved at this position can hold: from the one the next
    /// evaluation lets leave to the one holding the newest call (none before any call).
    ///
    /// The position is checked first: a time the parser accepts, and the next window's end
    /// a multiple of the hop, past the watermark, and no later than the newest call's
    /// hop's end (as `SlidingWindow` keeps them).
    private static func liveBuckets(
        maxEventTime: Int64, nextWindowEnd: Int64, windows: WindowConfiguration
    ) throws(StateError) -> Range<Int64> {
        let hop = windows.hopMilliseconds
        guard maxEventTime != .min || nextWindowEnd != .min else { return 0..<0 }
        guard TimeBounds(windows).contains(maxEventTime),
            TimeBounds(windows).contains(nextWindowEnd), nextWindowEnd % hop == 0,
            nextWindowEnd > maxEventTime - windows.latenessMilliseconds,
            nextWindowEnd <= (windows.bucket(of: maxEventTime) + 1) * hop
        else { throw .malformed("the window's position") }
        let oldest = (nextWindowEnd - windows.widthMilliseconds) / hop - 1
        return oldest..<(windows.bucket(of: maxEventTime) + 1)
    }

    /// Evaluates the windows still open at the end of the input.
    public mutating func finish(into decisions: inout [ClusterDecision]) {
        let state = self.state
        window.finish { step in state.apply(step, into: &decisions) }
        state.countQueuedSteps()
    }
}

/// One call as the window holds it: 16 bytes, no references (a million of them at a dense
/// city's busiest hour; 24 bytes each before the duration and two flags shared a word).
///
/// Only calls enter the window, so the type is one bit: placed (MOC) or received (MTC).
struct WindowEvent {
    var peer: UInt64
    var sim: Int32
    /// The duration + 1 (0: none), whether the call was received, and the busy-caller flag.
    ///
    /// The duration is in the top 30 bits, the two flags in bits 1 and 0; every bit pattern
    /// is a valid event.
    private(set) var packed: UInt32

    /// The longest duration kept, in seconds: more than the nine digits the parser reads.
    static let longestDuration: Int32 = (1 << 30) - 2

    init(peer: UInt64, sim: Int32, durationSeconds: Int32, isReceived: Bool, isFromBusySIM: Bool) {
        self.peer = peer
        self.sim = sim
        let stored = UInt32(min(max(durationSeconds, -1), Self.longestDuration) + 1)
        packed = stored << 2 | (isReceived ? 2 : 0) | (isFromBusySIM ? 1 : 0)
    }

    /// The call's duration in whole seconds; -1 when the record gave none.
    var durationSeconds: Int32 { Int32(packed >> 2) - 1 }
    var type: RecordType { packed & 2 != 0 ? .mtc : .moc }
    /// An inbound call from a SIM that was dialling out from the same location.
    var isFromBusySIM: Bool { packed & 1 != 0 }
}

/// A record and the location it was seen at: what the detector is fed.
public struct LocatedRecord {
    public var record: CallRecord
    public var location: Int32

    public init(record: CallRecord, location: Int32) {
        self.record = record
        self.location = location
    }
}
