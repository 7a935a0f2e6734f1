import CDRSimulation
import Testing

@testable import SIMBoxDetection

/// `BusyCallers` (a dictionary behind one bit per SIM) against a plain `Dictionary`, by
/// random sets, clears and lookups over SIM numbers that straddle the bit words' edges.
struct BusyCallersTests {
    @Test func agreesWithADictionary() {
        var random = SimulationRandom(seed: 23, stream: 4)
        var callers = BusyCallers()
        var reference: [Int32: UInt64] = [:]
        for round in 0..<30_000 {
            // Mostly small numbers (collisions in one word), sometimes far ones (growth).
            let sim = Int32(random.chance(0.9) ? random.int(0..<200) : random.int(0..<100_000))
            switch random.int(0..<3) {
            case 0:
                let caller = UInt64(random.int(1..<1_000_000))
                callers[sim] = caller
                reference[sim] = caller
            case 1:
                callers[sim] = nil
                reference[sim] = nil
            default:
                #expect(callers[sim] == reference[sim], "round \(round), SIM \(sim)")
            }
            #expect(callers.count == reference.count)
            if round % 1000 == 0 { callers.checkInvariants() }
        }
        for sim in Int32(0)..<200 { #expect(callers[sim] == reference[sim]) }
        #expect(callers.sorted().map(\.sim) == reference.keys.sorted())
        #expect(callers.sorted().map(\.caller) == reference.sorted { $0.key < $1.key }.map(\.value))
        callers.checkInvariants()
    }
}
