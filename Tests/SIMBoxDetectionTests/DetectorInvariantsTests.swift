import CDRRecords
import CDRSimulation
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

    /// Devices found by sorting IMEIs against every pair compared, on random clusters of
    /// SIMs with IMEIs of a few TACs, serials near and far, and some calling each other.
    @Test func findsTheDevicesEveryPairWouldFind() {
        var random = SimulationRandom(seed: 11)
        for _ in 0..<300 {
            let state = DetectorState(profile: .standard, windows: .standard, limits: .standard)
            let count = 1 + random.int(0..<40)
            let sims = (0..<count).map { state.allocate(460_001_000_000_000 + UInt64($0)) }
            for sim in sims {
                func imei() -> UInt64 {
                    guard random.int(0..<4) > 0 else { return 0 }
                    return IMEI(tac: 86_117_200 + random.int(0..<3), serial: random.int(0..<400))
                        .rawValue
                }
                state.history.pointer(to: sim).pointee.imei0 = imei()
                state.history.pointer(to: sim).pointee.imei1 = imei()
                if random.int(0..<8) == 0, let caller = sims.randomElement(using: &random) {
                    state.busyCallers[sim] = state.history[caller].imsi
                }
            }
            var reference = DisjointSets(count: count)
            for a in 0..<count {
                for b in (a + 1)..<count
                where DetectorState.shareADevice(state.history[sims[a]], state.history[sims[b]])
                    || state.busyCallers[sims[a]] == state.history[sims[b]].imsi
                    || state.busyCallers[sims[b]] == state.history[sims[a]].imsi
                {
                    reference.join(a, b)
                }
            }
            #expect(state.devices(of: sims) == reference.sets())
        }
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
                state.simByIMSI.remove(460_001_000_000_001, number: 0) { state.history[$0].imsi }
                state.checkInvariants(evaluation: 0)
            }
        }
    #endif
}
