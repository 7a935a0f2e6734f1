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

    /// Whether this system lets a thread become a batch thread (a sandbox may refuse; catpool
    /// then runs as it would without it).
    private static let isAllowed: Bool = {
        let (policy, _) = onNewThread { markAsBatchWork() }
        return policy == 3
    }()

    @Test func readerAndParserRunAsLoweredBatchWork() {
        let before = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let (policy, nice) = Self.onNewThread {
            markAsBatchWork()
            lowerThreadPriority()
        }
        if Self.isAllowed { #expect(policy == 3, "SCHED_BATCH") }
        // Nice 3, or the runner's own when that is lower already (raising needs a privilege).
        #expect(nice == max(before, 3))
    }

    @Test func theDetectorRunsAsBatchWorkAtItsOwnPriority() {
        let before = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let (policy, nice) = Self.onNewThread { markAsBatchWork() }
        if Self.isAllowed { #expect(policy == 3, "SCHED_BATCH") }
        #expect(nice == before)
    }
}
