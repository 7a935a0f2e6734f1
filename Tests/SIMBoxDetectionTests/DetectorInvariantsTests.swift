import SlidingWindows
import Testing

@testable import SIMBoxDetection

/// The detector's debug invariant checks do catch what they state (a check that cannot fail
/// proves nothing); the detection tests run them after every evaluation.
struct DetectorInvariantsTests {
    @Test func holdOnATableJustFilled() {
        let state = DetectorState(profile: .standard, windows: .standard, limits: .standard)
        for imsi in UInt64(460_001_000_000_001)...460_001_000_002_000 { _ = state.allocate(imsi) }
        state.checkInvariants(evaluation: 0)
    }

    // The checks are compiled into debug builds only (`swift test` builds for debugging).
    #if DEBUG
        @Test func catchADistinctCalleeCountWithNoPairBehindIt() async {
            await #expect(processExitsWith: .failure) {
                let state = DetectorState(profile: .standard, windows: .standard, limits: .standard)
                _ = state.allocate(460_001_000_000_001)
                state.counts.pointer(to: 0).pointee.distinctCallees = 1
                state.checkInvariants(evaluation: 0)
            }
        }

        @Test func catchASIMTheIMSITableLost() async {
            await #expect(processExitsWith: .failure) {
                let state = DetectorState(profile: .standard, windows: .standard, limits: .standard)
                _ = state.allocate(460_001_000_000_001)
                state.simByIMSI.remove(460_001_000_000_001, number: 0)
                state.checkInvariants(evaluation: 0)
            }
        }
    #endif
}
