import CDRRecords
import SIMBoxDetection

/// The detection stage: batches of located records in, cluster decisions out.
///
/// It wraps a `CatPoolDetector` and is synchronous: `feed` applies a whole batch before it
/// returns. `Pipeline` fills the batches and turns the decisions into output events; it runs
/// the stage through a `DetectionRunner`, which is the stage itself (inline), or the
/// executable's detector thread, which moves the stage to a thread of its own and hands it
/// batches in order. Either way the decisions are the same, in the same order.
///
/// Noncopyable, as the detector it holds is.
public struct DetectionStage: ~Copyable {
    /// Records per batch: big enough that handing a batch over costs nothing per record.
    ///
    /// With sixteen batches in flight (`DetectorThread`), 4,096 held 1.9 MB more on the dense
    /// city's day than 2,048 and were no faster (six runs in rotated order, 6.7 s against
    /// 6.5 s, medians).
    public static let batchCapacity = 2048

    /// A record and the location it was seen at.
    public typealias Item = LocatedRecord

    /// The detector's counts after the last record it applied.
    public struct Counts: Equatable {
        public var lateRecords = 0
        public var shedRecords = 0
        public var shedCalls = 0
        public var evictedSIMs = 0
        public var simCount = 0
        public var stateBytes = 0
        /// The detector's watermark: the evidence stage releases records well behind it.
        public var watermark: EventTime?
    }

    /// What the stage has decided: decisions in order, and the counts as of the last one.
    public struct Output {
        public var decisions: [ClusterDecision] = []
        public var counts = Counts()

        public init() {}
    }

    private var detector: CatPoolDetector

    /// The watermark of the restored detector (`--state`): a call before it is late.
    ///
    /// Read before any record; `nil` when starting afresh or when the state held no call.
    public let restoredWatermark: EventTime?

    /// A stage starting afresh.
    ///
    /// - Throws: `WindowConfiguration.Invalid` when the profile's windows are malformed.
    init(profile: DetectionProfile, limits: StateLimits) throws {
        detector = try CatPoolDetector(profile: profile, limits: limits)
        restoredWatermark = nil
    }

    /// A stage continuing the detector saved in `reader` (`--state`).
    ///
    /// - Parameter references: the cells and locations restored with it.
    /// - Throws: `StateError` when the saved detector cannot be continued from.
    init(
        profile: DetectionProfile, limits: StateLimits, restoring reader: inout StateReader,
        references: StateReferences
    ) throws(StateError) {
        detector = try CatPoolDetector(
            profile: profile, limits: limits, references: references, restoring: &reader)
        restoredWatermark = detector.watermark
    }

    /// Applies every record of `batch` and empties it (keeping its capacity).
    ///
    /// - Complexity: O(n) in the batch's records, each O(1) amortized.
    public mutating func feed(_ batch: inout [Item], into output: inout Output) {
        batch.withUnsafeBufferPointer { detector.feed($0, into: &output.decisions) }
        batch.removeAll(keepingCapacity: true)
        output.counts = counts
    }

    /// Evaluates the windows still open and adds the last decisions; the stage is done.
    public mutating func finish(into output: inout Output) {
        detector.finish(into: &output.decisions)
        output.counts = counts
    }

    /// Writes the detector's state; its windows stay open for the next run's records.
    public mutating func save(into writer: inout StateWriter) {
        detector.save(into: &writer)
    }

    private var counts: Counts {
        Counts(
            lateRecords: detector.lateRecords, shedRecords: detector.shedRecords,
            shedCalls: detector.shedCalls, evictedSIMs: detector.evictedSIMs,
            simCount: detector.simCount, stateBytes: detector.stateBytes,
            watermark: detector.watermark)
    }
}

/// Runs a `DetectionStage` for `Pipeline`: inline (`InlineDetection`), or elsewhere.
///
/// A runner applies batches in the order fed and reports their decisions in that order.
/// One that runs the stage elsewhere may report a batch's decisions at a later call; `flush`
/// waits for all of them.
///
/// A class (`AnyObject`): the pipeline holds it as one reference, which costs nothing to
/// check for each record (an existential of a value type is copied to be looked at).
public protocol DetectionRunner: AnyObject {
    /// Takes `batch`'s records, leaving it empty (with capacity for `batchCapacity`), and
    /// adds the decisions made so far to `output`.
    func feed(_ batch: inout [DetectionStage.Item], into output: inout DetectionStage.Output)
    /// Adds the decisions of every record fed so far to `output`.
    func flush(into output: inout DetectionStage.Output)
    /// Evaluates the windows still open and adds the last decisions; the runner is done.
    func finish(into output: inout DetectionStage.Output)
    /// Writes the detector's state, its windows still open.
    ///
    /// - Precondition: `flush` has reported every decision of the records fed.
    func save(into writer: inout StateWriter)
}

/// Runs the detection stage on the caller's thread: each batch is applied as it is fed.
public final class InlineDetection: DetectionRunner {
    private var stage: DetectionStage

    public init(_ stage: consuming DetectionStage) { self.stage = stage }

    public func feed(_ batch: inout [DetectionStage.Item], into output: inout DetectionStage.Output)
    {
        stage.feed(&batch, into: &output)
    }

    /// Nothing to wait for: `feed` has applied every record before it returned.
    public func flush(into output: inout DetectionStage.Output) {}

    public func finish(into output: inout DetectionStage.Output) { stage.finish(into: &output) }

    public func save(into writer: inout StateWriter) { stage.save(into: &writer) }
}
