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

/// A SIM's aggregates over the calls now in the window, kept exact by enter and leave steps:
/// 32 bytes, two to a cache line.
///
/// Every count is of the SIM's calls the window holds, so none exceeds `heldCalls`, which the
/// window caps at 65,535 (see `DetectorState.hasRoomInWindow`): 16 bits hold them.
struct SIMCounts {
    var answeredSeconds: Int32 = 0
    var busySeconds: Int32 = 0
    /// While every call of the SIM's in the window that has a callee went to one number:
    /// that number (and `soloCalls` the calls), kept here instead of in the callee pairs.
    ///
    /// Most people call one number or none in an hour (three calls in four, on a dense
    /// city's day): their calls then cost no lookup in the pairs' table, whose every slot is
    /// a miss to memory. 0 when the SIM's callees, if any, are in the table.
    var soloPeer: UInt64 = 0
    var soloCalls: UInt16 = 0
    var callsOut: UInt16 = 0
    var callsInExternal: UInt16 = 0
    var callsInFromBusy: UInt16 = 0
    var answered: UInt16 = 0
    var distinctCallees: UInt16 = 0
    /// Its calls the window holds, pending or counted.
    ///
    /// What the cap on the window's calls goes by (see `DetectorState.hasRoomInWindow`).
    var heldCalls: UInt16 = 0
    var isHot = false
    /// Its calls add to a flagged cluster's lifetime count.
    var isInFlaggedCluster = false

    var isEmpty: Bool {
        callsOut == 0 && callsInExternal == 0 && callsInFromBusy == 0 && answered == 0
            && distinctCallees == 0 && answeredSeconds == 0 && busySeconds == 0 && heldCalls == 0
            && soloPeer == 0 && soloCalls == 0
    }
}

extension UInt16 {
    /// Takes one enter (+1) or leave (-1) step of a window count.
    ///
    /// A count is never taken out of 0...65,535 (checked in debug builds, where the
    /// invariants check the counts too).
    @inline(__always)
    mutating func step(_ delta: Int32) {
        let value = Int32(self) &+ delta
        assert(value >= 0 && value <= Int32(UInt16.max), "a window count left 0...65,535")
        self = UInt16(truncatingIfNeeded: value)
    }
}

/// A window step waiting to be counted.
struct QueuedStep {
    var event: WindowEvent
    var delta: Int32
}
