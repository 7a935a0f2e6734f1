/// Event-time sliding windows over any kind of event, exact under bounded disorder.
///
/// `SlidingWindows` knows nothing about CDRs. The detector inserts each record with its
/// event time; the window tells it, in order, which events enter and leave the trailing
/// window and when to evaluate, so the detector's running aggregates equal exactly the
/// window `[t − width, t)` whenever it is asked to evaluate `t`. Memory is one window plus
/// the lateness of events, whatever the input's length.
///
/// Semantics (see `WindowConfiguration` for the window shape):
/// - The watermark is the largest event time seen minus the allowed lateness. The window
///   ending at `t` is evaluated when the watermark reaches `t`, never before; evaluation
///   follows event time only, never the wall clock.
/// - An event at `x` is **pending** when its hop has not entered the windows yet (it is
///   handed over as `.enter` when its hop does), **current** when its hop has entered but
///   some open window still contains `x` (handed over as `.enter` at once: it counts in every
///   window still to be evaluated that contains it), or **late** when no open window
///   contains it: it is dropped, counted in `lateCount`, and reported to the caller.
/// - Each evaluated step hands over, in this order: the events of the hop `[t − hop, t)` as
///   `.enter`, the events of the hop `[t − width − hop, t − width)` as `.leave`, then
///   `.evaluate(windowEnd: t)`. An event leaves exactly once, after it entered.
/// - A stretch with no event at all is skipped in one step: the next evaluation then jumps.
/// - `finish` evaluates every window up to the one holding the newest event.
public struct SlidingWindow<Event> {
    /// What the window hands to its consumer.
    public enum Step {
        case enter(Event)
        case leave(Event)
        case evaluate(windowEnd: Int64)
    }

    /// Where an inserted event went.
    public enum Placement: Equatable, Sendable {
        case pending
        case current
        case late
    }

    public let configuration: WindowConfiguration
    /// The largest event time seen.
    public var maxEventTime: Int64? { storedMaxEventTime }
    @usableFromInline var storedMaxEventTime: Int64?
    /// The end of the next window to evaluate; `nil` before the first event.
    public var nextWindowEnd: Int64? { storedNextWindowEnd }
    @usableFromInline var storedNextWindowEnd: Int64?
    /// Events dropped because no open window contained them.
    public var lateCount: Int { storedLateCount }
    @usableFromInline var storedLateCount: Int = 0
    /// Events held (pending or inside the windows).
    public var liveCount: Int { storedLiveCount }
    @usableFromInline var storedLiveCount: Int = 0

    /// Ring of hop buckets: slot `b mod count` holds bucket `b` when `bucketNumbers` says so.
    @usableFromInline var slots: [[Event]]
    @usableFromInline var bucketNumbers: [Int64]
    /// Arrays of buckets that left, emptied with their capacity kept, for the next buckets to
    /// fill: no allocation a hop once the buckets have grown, and no capacity kept in the
    /// ring's idle slots (a few arrays at most).
    @usableFromInline var spareArrays: [[Event]] = []
    @usableFromInline static var maxSpareArrays: Int { 4 }

    @inlinable
    public init(configuration: WindowConfiguration) {
        self.configuration = configuration
        let hop = configuration.hopMilliseconds
        let needed =
            configuration.hopsPerWindow + Int((configuration.latenessMilliseconds + hop - 1) / hop)
            + 3
        // A power of two, so a bucket finds its slot with a mask: two divisions a call fewer
        // (the ring's spare slots are empty arrays, which hold no memory).
        var count = 1
        while count < needed { count *= 2 }
        slots = Array(repeating: [], count: count)
        bucketNumbers = Array(repeating: .min, count: count)
    }

    /// The watermark: the largest event time minus the allowed lateness.
    @inlinable
    public var watermark: Int64? {
        storedMaxEventTime.map { $0 - configuration.latenessMilliseconds }
    }

    /// Inserts an event, first evaluating every window its time makes due.
    ///
    /// - Returns: where the event went; a `.current` event has been handed to `consumer`
    ///   as `.enter` before returning.
    /// - Complexity: amortised O(1) per event, plus O(hops passed) when time jumps.
    @inlinable @discardableResult
    public mutating func insert(_ event: Event, at time: Int64, _ consumer: (Step) throws -> Void)
        rethrows -> Placement
    {
        let hop = configuration.hopMilliseconds
        if storedNextWindowEnd == nil {
            storedNextWindowEnd = (configuration.bucket(of: time) + 1) * hop
        }
        if time > storedMaxEventTime ?? .min {
            storedMaxEventTime = time
            try advance(to: time - configuration.latenessMilliseconds, consumer)
        }
        guard let nextEnd = storedNextWindowEnd, time >= nextEnd - configuration.widthMilliseconds
        else {
            storedLateCount += 1
            return .late
        }
        let bucket = configuration.bucket(of: time)
        store(event, bucket: bucket)
        checkInvariants()
        // Entered already: its bucket ends before the hop that is next to enter, the one
        // ending at `nextEnd` (`bucket < nextEnd / hop - 1`, without the division).
        if (bucket + 1) * hop < nextEnd {
            try consumer(.enter(event))
            return .current
        }
        return .pending
    }

    /// Moves event time on to `time` without an event, evaluating every window it makes
    /// due: for a record the caller drops (so dropped records cannot stop the windows).
    ///
    /// Does nothing before the first event, or for a time not past the newest.
    /// - Complexity: O(hops passed), as `insert`.
    @inlinable
    public mutating func advance(toEventTime time: Int64, _ consumer: (Step) throws -> Void)
        rethrows
    {
        guard storedNextWindowEnd != nil, let newest = storedMaxEventTime, time > newest else {
            return
        }
        storedMaxEventTime = time
        try advance(to: time - configuration.latenessMilliseconds, consumer)
    }

    /// Evaluates the remaining windows at the end of the input, up to the one that holds
    /// the newest event.
    @inlinable
    public mutating func finish(_ consumer: (Step) throws -> Void) rethrows {
        guard let storedMaxEventTime else { return }
        let hop = configuration.hopMilliseconds
        try advance(to: (configuration.bucket(of: storedMaxEventTime) + 1) * hop, consumer)
    }

    // MARK: - Private

    /// Evaluates every window ending at or before `watermark`.
    @inlinable
    mutating func advance(to watermark: Int64, _ consumer: (Step) throws -> Void) rethrows {
        let hop = configuration.hopMilliseconds
        let width = configuration.widthMilliseconds
        while var end = storedNextWindowEnd, end <= watermark {
            if storedLiveCount == 0 {
                // Nothing in any window: jump to the last due end instead of stepping to it.
                end = max(end, watermark - ((watermark % hop) + hop) % hop)
            }
            try drain(bucket: end / hop - 1, as: { .enter($0) }, keep: true, consumer)
            try drain(bucket: (end - width) / hop - 1, as: { .leave($0) }, keep: false, consumer)
            try consumer(.evaluate(windowEnd: end))
            storedNextWindowEnd = end + hop
            checkInvariants()
        }
    }

    @inlinable
    mutating func drain(
        bucket: Int64, as step: (Event) -> Step, keep: Bool, _ consumer: (Step) throws -> Void
    ) rethrows {
        let slot = self.slot(of: bucket)
        guard bucketNumbers[slot] == bucket else { return }
        for event in slots[slot] { try consumer(step(event)) }
        if !keep {
            storedLiveCount -= slots[slot].count
            // A slot is next used a ring's turn later: its array goes to the spares, so memory
            // follows the events live now and the next bucket needs no allocation.
            var released: [Event] = []
            swap(&released, &slots[slot])
            if spareArrays.count < Self.maxSpareArrays {
                released.removeAll(keepingCapacity: true)
                spareArrays.append(released)
            }
            bucketNumbers[slot] = .min
        }
    }

    @inlinable
    mutating func store(_ event: Event, bucket: Int64) {
        let slot = self.slot(of: bucket)
        if bucketNumbers[slot] != bucket {
            precondition(slots[slot].isEmpty, "a live bucket would be overwritten")
            bucketNumbers[slot] = bucket
            if let spare = spareArrays.popLast() { slots[slot] = spare }
        }
        slots[slot].append(event)
        storedLiveCount += 1
    }

    @inlinable @inline(__always)
    func slot(of bucket: Int64) -> Int {
        // `bucket mod count`, non-negative for negative buckets too: the count is a power of two.
        Int(truncatingIfNeeded: bucket) & (slots.count - 1)
    }
}

// MARK: - Saving and restoring

extension SlidingWindow {
    /// What the window holds between two runs (`catpool --state`): the event-time position
    /// and the events of each live hop bucket, oldest first.
    public struct Snapshot {
        public var maxEventTime: Int64?
        public var nextWindowEnd: Int64?
        public var buckets: [(number: Int64, events: [Event])]

        public init(
            maxEventTime: Int64?, nextWindowEnd: Int64?, buckets: [(number: Int64, events: [Event])]
        ) {
            self.maxEventTime = maxEventTime
            self.nextWindowEnd = nextWindowEnd
            self.buckets = buckets
        }
    }

    /// A snapshot restoring would not fit this window's shape.
    public struct RestoreError: Error, Equatable {}

    public var snapshot: Snapshot {
        let live = bucketNumbers.indices.filter { bucketNumbers[$0] != .min }
            .sorted { bucketNumbers[$0] < bucketNumbers[$1] }
        return Snapshot(
            maxEventTime: storedMaxEventTime, nextWindowEnd: storedNextWindowEnd,
            buckets: live.map { (bucketNumbers[$0], slots[$0]) })
    }

    /// A window that continues where the one `snapshot` was taken of stood; its late count
    /// starts again from zero.
    ///
    /// - Throws: `RestoreError` when two buckets would share a slot (another window shape).
    public init(configuration: WindowConfiguration, restoring snapshot: Snapshot)
        throws(RestoreError)
    {
        self.init(configuration: configuration)
        storedMaxEventTime = snapshot.maxEventTime
        storedNextWindowEnd = snapshot.nextWindowEnd
        for (number, events) in snapshot.buckets {
            let slot = self.slot(of: number)
            guard bucketNumbers[slot] == .min else { throw RestoreError() }
            bucketNumbers[slot] = number
            slots[slot] = events
            storedLiveCount += events.count
        }
    }
}
