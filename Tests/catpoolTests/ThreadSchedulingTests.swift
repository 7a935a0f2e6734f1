import Foundation
import Testing

@testable import catpool

/// The scheduling the executable asks for its busy threads in `detect`: the reader and the
/// parser as lowered batch work, the detector as batch work at its own priority.
struct ThreadSchedulingTests {
    /// Runs `body` on a new thread and returns that thread's policy and nice value after it.
    private static func onNewThread(_ body: @escaping @Sendable () -> Void) -> (Int32, Int32) {
        let seen = Seen()
        let thread = Thread {
            body()
            seen.values = (
                sched_getscheduler(0), getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
            )
            seen.finished.signal()
        }
        thread.start()
        seen.finished.wait()
        return seen.values
    }

    /// What the new thread saw; written before `finished` is signalled, read after.
    private final class Seen: @unchecked Sendable {
        let finished = DispatchSemaphore(value: 0)
        var values: (Int32, Int32) = (-1, -1)
    }

    @Test func readerAndParserRunAsLoweredBatchWork() {
        let (policy, nice) = Self.onNewThread {
            markAsBatchWork()
            lowerThreadPriority()
        }
        #expect(policy == 3, "SCHED_BATCH")
        #expect(nice == 3)
    }

    @Test func theDetectorRunsAsBatchWorkAtItsOwnPriority() {
        let before = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let (policy, nice) = Self.onNewThread { markAsBatchWork() }
        #expect(policy == 3, "SCHED_BATCH")
        #expect(nice == before)
    }
}
