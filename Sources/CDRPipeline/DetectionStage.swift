import CDRRecords
import Foundation
import SIMBoxDetection

/// Runs the detector, inline or on a thread of its own fed with batches of parsed records.
///
/// On its own thread the detector overlaps the parser (and the reader's decompression):
/// on two cores the three stages then share the machine instead of taking turns. Batches
/// go over in record order and decisions come back in the same order, so the output is the
/// same bytes either way; only its timing differs. The caller hands over what it has at the
/// end of every chunk (`handOver`) and `collect`s decisions without waiting, and waits
/// (`collect(waiting: true)`) before the input goes quiet, so a live feed's decisions are
/// not held back by the batching.
final class DetectionStage: @unchecked Sendable {
    /// Records per batch: big enough that the hand-over costs nothing per record.
    static let batchCapacity = 4096

    private struct Item {
        var record: CallRecord
        var location: Int32
    }

    /// What the detector thread reports back, under `condition`.
    struct Counts: Equatable {
        var lateRecords = 0
        var shedRecords = 0
        var shedCalls = 0
        var evictedSIMs = 0
        var simCount = 0
        var stateBytes = 0
    }

    @exclusivity(unchecked) private var detector: CatPoolDetector
    private let isThreaded: Bool

    // Their accesses never overlap (each side keeps to its own, the shared ones are under
    // `condition`), so the runtime's exclusivity checks would only cost a call per record.

    // Main thread only.
    @exclusivity(unchecked) private var batch: [Item] = []

    // Shared, under `condition`.
    private let condition = NSCondition()
    @exclusivity(unchecked) private var submitted: [[Item]] = []
    @exclusivity(unchecked) private var spareBatches: [[Item]] = []
    @exclusivity(unchecked) private var isFinishRequested = false
    @exclusivity(unchecked) private var isFinished = false
    @exclusivity(unchecked) private var pendingBatches = 0
    @exclusivity(unchecked) private var results: [ClusterDecision] = []
    @exclusivity(unchecked) private var counts = Counts()

    // Detector thread (or the caller, inline) only.
    @exclusivity(unchecked) private var decisions: [ClusterDecision] = []

    /// The watermark of the restored detector (`--state`): a call before it is late.
    ///
    /// Read before any record; `nil` when starting afresh or when the state held no call.
    let restoredWatermark: EventTime?

    /// - Parameters:
    ///   - saved: a saved detector to continue (`--state`), or `nil` to start afresh.
    ///   - references: the cells and locations restored with it.
    init(
        profile: DetectionProfile, limits: StateLimits, isThreaded: Bool,
        restoring saved: inout StateReader?, references: StateReferences
    ) throws {
        if var reader = saved {
            detector = try CatPoolDetector(
                profile: profile, limits: limits, references: references, restoring: &reader)
            saved = reader
        } else {
            detector = try CatPoolDetector(profile: profile, limits: limits)
        }
        restoredWatermark = detector.watermark
        self.isThreaded = isThreaded
        if isThreaded {
            batch.reserveCapacity(Self.batchCapacity)
            spareBatches = (0..<16).map { _ in
                var spare: [Item] = []
                spare.reserveCapacity(Self.batchCapacity)
                return spare
            }
            let thread = Thread { [self] in run() }
            thread.name = "catpool-detector"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Adds one record seen at `location`.
    @inline(__always)
    func add(_ record: CallRecord, location: Int32) {
        if isThreaded {
            batch.append(Item(record: record, location: location))
            if batch.count == Self.batchCapacity { submitBatch() }
        } else {
            detector.enqueue(record, location: location, into: &decisions)
        }
    }

    /// Passes on what has been added (at the end of each chunk of input).
    func handOver() {
        if isThreaded {
            if !batch.isEmpty { submitBatch() }
        } else {
            detector.drain(into: &decisions)
            counts = currentCounts()
        }
    }

    /// Moves the decisions made so far into `into`; with `waiting`, first waits until every
    /// record handed over has been through the detector.
    ///
    /// - Returns: the detector's counts as of the decisions returned.
    @discardableResult
    func collect(into output: inout [ClusterDecision], waiting: Bool) -> Counts {
        guard isThreaded else {
            output.append(contentsOf: decisions)
            decisions.removeAll(keepingCapacity: true)
            return counts
        }
        condition.lock()
        defer { condition.unlock() }
        while waiting, pendingBatches > 0 { condition.wait() }
        output.append(contentsOf: results)
        results.removeAll(keepingCapacity: true)
        return counts
    }

    /// Evaluates the windows still open and returns the last decisions; the stage is done.
    func finish(into output: inout [ClusterDecision]) -> Counts {
        guard isThreaded else {
            detector.finish(into: &decisions)
            counts = currentCounts()
            return collect(into: &output, waiting: false)
        }
        handOver()
        condition.lock()
        isFinishRequested = true
        condition.broadcast()
        while !isFinished { condition.wait() }
        output.append(contentsOf: results)
        results.removeAll()
        condition.unlock()
        return counts
    }

    /// Waits until every record handed over has been through the detector, then writes the
    /// detector's state (its windows stay open for the next run).
    func save(into writer: inout StateWriter) {
        guard isThreaded else {
            detector.drain(into: &decisions)
            detector.save(into: &writer)
            return
        }
        handOver()
        condition.lock()
        defer { condition.unlock() }
        // The detector thread is idle, waiting for a batch only this thread can send.
        while pendingBatches > 0 { condition.wait() }
        detector.save(into: &writer)
    }

    // MARK: - Private

    private func currentCounts() -> Counts {
        Counts(
            lateRecords: detector.lateRecords, shedRecords: detector.shedRecords,
            shedCalls: detector.shedCalls, evictedSIMs: detector.evictedSIMs,
            simCount: detector.simCount,
            stateBytes: detector.stateBytes)
    }

    private func submitBatch() {
        condition.lock()
        while spareBatches.isEmpty { condition.wait() }  // the detector is behind: wait
        var next = spareBatches.removeLast()
        swap(&next, &batch)
        submitted.append(next)
        pendingBatches += 1
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while submitted.isEmpty, !isFinishRequested { condition.wait() }
            guard !submitted.isEmpty else {
                condition.unlock()
                break
            }
            var work = submitted.removeFirst()
            condition.unlock()

            for item in work {
                detector.enqueue(item.record, location: item.location, into: &decisions)
            }
            detector.drain(into: &decisions)
            work.removeAll(keepingCapacity: true)

            condition.lock()
            results.append(contentsOf: decisions)
            counts = currentCounts()
            spareBatches.append(work)
            pendingBatches -= 1
            condition.broadcast()
            condition.unlock()
            decisions.removeAll(keepingCapacity: true)
        }
        detector.finish(into: &decisions)
        condition.lock()
        results.append(contentsOf: decisions)
        counts = currentCounts()
        isFinished = true
        condition.broadcast()
        condition.unlock()
    }
}
