import CDRPipeline
import Foundation
import SIMBoxDetection

/// Runs the detection stage on a thread of its own, fed with batches of records.
///
/// On its own thread the detector overlaps the parser (and the reader's decompression): on
/// two cores the three stages then share the machine instead of taking turns. Batches go
/// over in record order through one `HandOff` and come back emptied, with their decisions,
/// through another, so the output is the same bytes as running the stage inline; only its
/// timing differs. At most `batchCount` batches are in flight: when the detector is behind,
/// the parser waits for one to come back.
final class DetectorThread: DetectionRunner {
    /// Batches in flight at once: 16 × 2,048 records.
    ///
    /// Measured with the first threaded detector, 16 keep the detector busy through a slow
    /// chunk without holding much memory. Eight batches (of 4,096 records) and eight decoded
    /// chunks held 10 MB less on the dense city's day and were slower: 13.7 s against 12.8 s,
    /// medians of six runs in rotated order.
    static let batchCount = 16

    /// The stage, moved between threads by reference (an enum's payload must be copyable).
    private final class Stage {
        var stage: DetectionStage
        init(_ stage: consuming DetectionStage) { self.stage = stage }
    }

    private enum Work {
        case start(Stage)
        case records([DetectionStage.Item])
        case finish
        case stop
    }

    private enum Done {
        /// A batch's decisions, and the batch emptied for reuse.
        case records([DetectionStage.Item], DetectionStage.Output)
        case finished(DetectionStage.Output)
        /// The stage, given back after the last batch (to be saved).
        case stopped(Stage)
    }

    private let work = HandOff<Work>(capacity: batchCount + 2)
    private let done = HandOff<Done>(capacity: batchCount + 2)
    /// Empty batches, with capacity, for the pipeline to fill next.
    private var spares: [[DetectionStage.Item]]
    /// Batches handed over whose decisions have not come back yet.
    private var pending = 0

    /// Where the parser's waits for the detector are written (`--stats` `threads`).
    private let board: ThreadUseBoard?

    /// Moves `stage` to a new thread.
    ///
    /// - Parameter board: where both threads write how they spent the run.
    init(_ stage: consuming DetectionStage, board: ThreadUseBoard? = nil) {
        self.board = board
        // The pipeline holds one batch; the others wait here.
        spares = (1..<Self.batchCount).map { _ in
            var spare: [DetectionStage.Item] = []
            spare.reserveCapacity(DetectionStage.batchCapacity)
            return spare
        }
        let thread = Thread { [work, done] in Self.run(work, done, board: board) }
        thread.name = "catpool-detector"
        thread.stackSize = 1 << 20
        thread.start()
        work.send(.start(Stage(stage)))
    }

    func feed(_ batch: inout [DetectionStage.Item], into output: inout DetectionStage.Output) {
        while spares.isEmpty { take(done.receive(), into: &output) }  // the detector is behind
        var next = spares.removeLast()
        swap(&next, &batch)
        work.send(.records(next))
        pending += 1
        while let finished = done.receiveIfReady() { take(finished, into: &output) }
    }

    func flush(into output: inout DetectionStage.Output) {
        while pending > 0 { take(done.receive(), into: &output) }
        noteParserWaits()
    }

    func finish(into output: inout DetectionStage.Output) {
        work.send(.finish)
        while pending >= 0 { take(done.receive(), into: &output) }
        noteParserWaits()
    }

    /// Writes down how long the parser has waited for batches to come back.
    private func noteParserWaits() {
        board?.setWait(of: .parser, on: .detector, done.waits.receive + work.waits.send)
    }

    func save(into writer: inout StateWriter) {
        precondition(pending == 0, "flush the detector thread before saving")
        work.send(.stop)
        guard case .stopped(let stopped) = done.receive() else {
            preconditionFailure("the detector thread stopped out of turn")
        }
        noteParserWaits()
        stopped.stage.save(into: &writer)
    }

    /// Takes in what the detector thread sent back.
    private func take(_ message: Done, into output: inout DetectionStage.Output) {
        switch message {
        case .records(let batch, let detected):
            output.decisions.append(contentsOf: detected.decisions)
            output.counts = detected.counts
            spares.append(batch)
            pending -= 1
        case .finished(let detected):
            output.decisions.append(contentsOf: detected.decisions)
            output.counts = detected.counts
            pending = -1
        case .stopped:
            preconditionFailure("the detector thread stopped out of turn")
        }
    }

    /// The detector thread: applies batches in order until told to finish or stop.
    private static func run(_ work: HandOff<Work>, _ done: HandOff<Done>, board: ThreadUseBoard?) {
        markAsBatchWork()
        func noteEnd() {
            board?.setCPU(of: .detector, seconds: threadCPUSeconds())
            board?.setWait(of: .detector, on: .parser, work.waits.receive + done.waits.send)
        }
        guard case .start(let stage) = work.receive() else {
            preconditionFailure("the detector thread needs its stage first")
        }
        var output = DetectionStage.Output()
        while true {
            switch work.receive() {
            case .records(var batch):
                stage.stage.feed(&batch, into: &output)
                done.send(.records(batch, output))
                // Not `removeAll(keepingCapacity:)`: the array just sent shares the storage.
                output.decisions = []
            case .finish:
                stage.stage.finish(into: &output)
                noteEnd()
                done.send(.finished(output))
                return
            case .stop:
                noteEnd()
                done.send(.stopped(stage))
                return
            case .start:
                preconditionFailure("the detector thread has its stage")
            }
        }
    }
}
