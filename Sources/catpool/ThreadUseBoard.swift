import CDRPipeline
import Glibc
import Synchronization

/// Where the run's threads write down how they spent it, for `--stats` (`threads`).
///
/// Each thread writes its own CPU time as it ends, and the waits measured on its queues; the
/// run loop reads the board when it writes `--stats`, after the reader and the detector have
/// ended (a run stopped early may find one still running: it is then left out). Threads are listed
/// in pipeline order (reader, parser, detector) whatever order they wrote in, so the same
/// run gives the same layout.
final class ThreadUseBoard: Sendable {
    private let uses = Mutex<[ThreadUse]>([])
    private static let order = ["reader", "parser", "detector"]

    /// Sets the CPU time `thread` used.
    func setCPU(of thread: String, seconds: Double) {
        update(thread) { $0.cpuSeconds = seconds }
    }

    /// Sets what `tally` measured so far as `thread` waiting on `other` (a later call with
    /// the same tally, grown, replaces it).
    func setWait(of thread: String, on other: String, _ tally: WaitTally) {
        update(thread) { use in
            if let index = use.waits.firstIndex(where: { $0.on == other }) {
                use.waits[index].seconds = tally.seconds
                use.waits[index].count = tally.count
            } else {
                use.waits.append(
                    ThreadUse.Wait(on: other, seconds: tally.seconds, count: tally.count))
            }
        }
    }

    /// Every thread written down, in pipeline order.
    var all: [ThreadUse] {
        uses.withLock { uses in
            uses.sorted {
                (Self.order.firstIndex(of: $0.name) ?? Self.order.count)
                    < (Self.order.firstIndex(of: $1.name) ?? Self.order.count)
            }
        }
    }

    private func update(_ thread: String, _ change: (inout ThreadUse) -> Void) {
        uses.withLock { uses in
            if let index = uses.firstIndex(where: { $0.name == thread }) {
                change(&uses[index])
            } else {
                var use = ThreadUse(name: thread)
                change(&use)
                uses.append(use)
            }
        }
    }
}

/// CPU time the calling thread has used so far, in seconds (user and system).
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
