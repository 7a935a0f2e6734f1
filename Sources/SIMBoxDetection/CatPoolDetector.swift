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
/// State: per SIM a few counters (about 100 bytes), the window's records, and callee pairs
/// of the window. Nothing grows with the input's length but the number of distinct SIMs.
public struct CatPoolDetector {
    public let profile: DetectionProfile
    public let windows: WindowConfiguration
    private var window: SlidingWindow<WindowEvent>
    private let state: DetectorState

    /// Records too late for any open window, counted and dropped.
    public var lateRecords: Int { window.lateCount }
    /// Distinct SIMs seen.
    public var simCount: Int { state.imsi.count }

    public init(profile: DetectionProfile) throws(WindowConfiguration.Invalid) {
        self.profile = profile
        windows = try WindowConfiguration(
            widthMilliseconds: Int64((profile.windowMinutes * 60_000).rounded()),
            hopMilliseconds: Int64((profile.hopMinutes * 60_000).rounded()),
            latenessMilliseconds: Int64((profile.latenessMinutes * 60_000).rounded()))
        window = SlidingWindow(configuration: windows)
        state = DetectorState(profile: profile, windows: windows)
    }

    /// Feeds one record seen at `location`; decisions made on the way are appended.
    ///
    /// Only calls enter the windows: SMS and data records change no window aggregate, only
    /// the SIM's 24-hour history, so they skip the window (over half of a day's records).
    ///
    /// - Returns: `false` when a call was too late for any open window (it still updates the
    ///   SIM's 24-hour history).
    @discardableResult
    public mutating func feed(
        _ record: CallRecord, location: Int32, into decisions: inout [ClusterDecision]
    ) -> Bool {
        let event = state.admit(record, location: location)
        guard record.type == .moc || record.type == .mtc else { return true }
        let state = self.state
        return window.insert(event, at: record.eventTime.millisecondsSinceEpoch) { step in
            state.apply(step, into: &decisions)
        } != .late
    }

    /// Evaluates the windows still open at the end of the input.
    public mutating func finish(into decisions: inout [ClusterDecision]) {
        let state = self.state
        window.finish { step in state.apply(step, into: &decisions) }
    }
}

/// One call as the window holds it: 24 bytes, no references.
struct WindowEvent {
    var peer: UInt64
    var sim: Int32
    var durationSeconds: Int32
    var type: RecordType
    /// An inbound call from a SIM that was dialling out from the same location.
    var isFromBusySIM: Bool
}
