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
            // Counted in any order, as `track` counts a cluster's devices from its set.
            var links = state.deviceLinks(of: sims.shuffled(using: &random))
            #expect(links.setCount() == reference.sets().count)
        }
    }

    /// The sets union-find gives, and their counts, against a flood fill over the same links.
    @Test func groupsAsAFloodFillOverTheLinksWould() {
        var random = SimulationRandom(seed: 12)
        for _ in 0..<500 {
            let count = 1 + random.int(0..<30)
            var sets = DisjointSets(count: count)
            var neighbours = [[Int]](repeating: [], count: count)
            for _ in 0..<random.int(0..<(2 * count)) {
                let (a, b) = (random.int(0..<count), random.int(0..<count))
                sets.join(a, b)
                neighbours[a].append(b)
                neighbours[b].append(a)
            }
            var reference: [[Int]] = []
            var isPlaced = [Bool](repeating: false, count: count)
            for start in 0..<count where !isPlaced[start] {
                var group = [start]
                isPlaced[start] = true
                var next = 0
                while next < group.count {
                    for other in neighbours[group[next]] where !isPlaced[other] {
                        isPlaced[other] = true
                        group.append(other)
                    }
                    next += 1
                }
                reference.append(group.sorted())
            }
            #expect(sets.sets() == reference)
            #expect(sets.setCount() == reference.count)
            #expect(
                sets.joinedCount() == reference.filter { $0.count > 1 }.reduce(0) { $0 + $1.count })
        }
    }

    /// Distinct callees counted as calls enter and leave the window (a SIM's one callee kept
    /// in its counts, more in the pairs' table) against a dictionary of each SIM's calls
    /// per number, over random steps: SIMs calling one number, then others, then none.
    @Test func countsDistinctCalleesAsADictionaryOfTheWindowsCallsWould() {
        var random = SimulationRandom(seed: 13)
        let state = DetectorState(profile: .standard, windows: .standard, limits: .standard)
        let sims = (0..<20).map { state.allocate(460_001_000_000_000 + UInt64($0)) }
        var inWindow: [WindowEvent] = []
        var calls: [Int32: [UInt64: Int]] = [:]
        var pairsSeen = 0
        for step in 0..<20_000 {
            // Entering more often early on and leaving more later, so counts rise and fall.
            if inWindow.isEmpty || random.chance(step < 10_000 ? 0.6 : 0.4) {
                let sim = sims[random.int(0..<sims.count)]
                // Numbers 0 (no callee) to 4: a SIM often calls one number again.
                let peer = UInt64(random.int(0..<5)) * 8_613_000_000_001
                let event = WindowEvent(
                    peer: peer, sim: sim, durationSeconds: 30, isReceived: false,
                    isFromBusySIM: false)
                state.counts.pointer(to: sim).pointee.heldCalls += 1  // as the window's insert
                state.tally(event, by: 1, into: state.counts.pointer(to: sim))
                inWindow.append(event)
                if peer != 0 { calls[sim, default: [:]][peer, default: 0] += 1 }
            } else {
                let event = inWindow.remove(at: random.int(0..<inWindow.count))
                state.tally(event, by: -1, into: state.counts.pointer(to: event.sim))
                state.counts.pointer(to: event.sim).pointee.heldCalls -= 1
                if event.peer != 0 {
                    let left = calls[event.sim, default: [:]][event.peer, default: 0] - 1
                    calls[event.sim, default: [:]][event.peer] = left > 0 ? left : nil
                }
            }
            pairsSeen = max(pairsSeen, state.callees.count)
            for sim in sims {
                #expect(Int(state.counts[sim].distinctCallees) == calls[sim]?.count ?? 0)
            }
            if step % 500 == 0 { state.checkInvariants(evaluation: 0) }
        }
        #expect(pairsSeen > 0, "no SIM ever called a second number")
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

        @Test func catchAOneCalleeCountAlsoInThePairs() async {
            await #expect(processExitsWith: .failure) {
                let state = DetectorState(profile: .standard, windows: .standard, limits: .standard)
                _ = state.allocate(460_001_000_000_001)
                let call = WindowEvent(
                    peer: 8_613_000_000_001, sim: 0, durationSeconds: 30, isReceived: false,
                    isFromBusySIM: false)
                // Held by the window as the detector would hold it, so that only the callee
                // check can fail.
                state.counts.pointer(to: 0).pointee.heldCalls = 1
                state.tally(call, by: 1, into: state.counts.pointer(to: 0))
                state.checkInvariants(evaluation: 0)  // sound so far
                state.callees.insert(sim: 0, peer: call.peer, count: 1)
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
