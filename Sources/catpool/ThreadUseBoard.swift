import CDRPipeline
import Synchronization

/// The run's threads, by the names `--stats` gives them, in pipeline order.
enum ThreadName: String, CaseIterable {
    case reader, parser, detector
}

/// Where the run's threads write down how they spent it, for `--stats` (`threads`).
///
/// Each thread writes its own CPU time as it ends, and the waits measured on its queues. The
/// run loop reads the board when it writes `--stats`, after the reader and the detector have
/// ended; a run stopped early (a signal, a closed stdout, an input that cannot be read or
/// decoded) may find one still running, and a thread whose CPU time is not written yet is
/// left out. Threads, and the threads each waited on, are listed in pipeline order whatever
/// order they were written in, so the same run gives the same layout.
final class ThreadUseBoard: Sendable {
    private struct Draft {
        var cpuSeconds: Double?
        var waits: [ThreadName: WaitTally] = [:]
    }

    private let drafts = Mutex<[ThreadName: Draft]>([:])

    /// Sets the CPU time `thread` used.
    func setCPU(of thread: ThreadName, seconds: Double) {
        drafts.withLock { $0[thread, default: Draft()].cpuSeconds = seconds }
    }

    /// Sets what `tally` measured so far as `thread` waiting on `other` (a later call with
    /// the same tally, grown, replaces it).
    func setWait(of thread: ThreadName, on other: ThreadName, _ tally: WaitTally) {
        drafts.withLock { $0[thread, default: Draft()].waits[other] = tally }
    }

    /// Every thread whose CPU time is written, in pipeline order.
    var all: [ThreadUse] {
        drafts.withLock { drafts in
            ThreadName.allCases.compactMap { name in
                guard let draft = drafts[name], let cpu = draft.cpuSeconds else { return nil }
                let waits = ThreadName.allCases.compactMap { other in
                    draft.waits[other].map {
                        ThreadUse.Wait(on: other.rawValue, seconds: $0.seconds, count: $0.count)
                    }
                }
                return ThreadUse(name: name.rawValue, cpuSeconds: cpu, waits: waits)
            }
        }
    }
}
