import CDRSimulation
import Testing

@testable import SIMBoxDetection

/// The flat candidate and assignment lists of `track` against the dictionaries they
/// replaced, on random evaluations: the same places in the same order, the same SIMs in the
/// same order, the same hosts and the same place of each cluster.
struct ClusterCandidatesTests {
    @Test func groupsCandidatesByPlaceAsADictionaryOfArraysDid() {
        var random = SimulationRandom(seed: 31, stream: 2)
        for round in 0..<500 {
            var candidates = Candidates()
            var reference: [Int32: [Int32]] = [:]
            for _ in 0..<random.int(0..<200) {
                let sim = Int32(random.int(0..<100_000))
                // Few places (many SIMs each), and now and then a negative or a far one.
                let location =
                    random.chance(0.05)
                    ? Int32(random.int(-3..<0))
                    : Int32(random.int(0..<(random.chance(0.1) ? 1 << 30 : 12)))
                candidates.append(sim, at: location)
                reference[location, default: []].append(sim)
            }
            let (sims, places) = candidates.byLocation()
            #expect(places.map(\.location) == reference.keys.sorted(), "round \(round)")
            for (location, range) in places {
                #expect(Array(sims[range]) == reference[location], "round \(round)")
            }
            #expect(candidates.isEmpty == reference.isEmpty)
        }
    }

    /// Keys as a fresh run numbers them, and keys past 2^32 (a state continued for ages),
    /// which the packed sort cannot take.
    @Test(arguments: [0, 1 << 32 - 4])
    func groupsAssignmentsByClusterAsDictionariesDid(firstKey: Int) {
        var random = SimulationRandom(seed: 37, stream: 5)
        for round in 0..<500 {
            // Assignments made place by place, places ascending, as `track` makes them.
            var assignments: [Assignment] = []
            var members: [Int: [Int32]] = [:]
            var placesOfCluster: [Int: [Int32: Int]] = [:]
            var location = Int32(random.int(-2..<3))
            for _ in 0..<random.int(0..<12) {
                location += Int32(random.int(1..<4))
                let firstHere = assignments.count
                var here: [Int: Int] = [:]
                for _ in 0..<random.int(0..<15) {
                    let key = firstKey + random.int(0..<8)
                    let sim = Int32(random.int(0..<1000))
                    assignments.append(Assignment(cluster: key, location: location, sim: sim))
                    members[key, default: []].append(sim)
                    placesOfCluster[key, default: [:]][location, default: 0] += 1
                    here[key, default: 0] += 1
                }
                let hosts = here.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
                #expect(
                    Assignment.clustersByMembers(assignments[firstHere...]) == hosts,
                    "round \(round)")
            }
            let clusters = Assignment.byCluster(assignments)
            #expect(clusters.map(\.cluster) == members.keys.sorted(), "round \(round)")
            for cluster in clusters {
                #expect(cluster.sims == members[cluster.cluster], "round \(round)")
                let places = placesOfCluster[cluster.cluster] ?? [:]
                let most = places.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key
                #expect(cluster.location == most, "round \(round)")
            }
        }
    }
}
