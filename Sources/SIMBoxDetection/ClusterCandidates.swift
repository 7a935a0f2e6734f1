/// One evaluation's channel candidates, to be taken place by place in ascending order of
/// location, each place's SIMs in the order they were found.
///
/// Two flat arrays, sorted once: a dictionary from place to an array of SIMs, built anew
/// every minute, hashed every SIM and allocated every place.
struct Candidates {
    private var sims: [Int32] = []
    /// Per candidate, its location (biased, so unsigned order is the signed order) above
    /// its position in `sims`.
    private var keys: [UInt64] = []

    var isEmpty: Bool { sims.isEmpty }

    mutating func append(_ sim: Int32, at location: Int32) {
        keys.append(UInt64(UInt32(bitPattern: location) ^ 0x8000_0000) << 32 | UInt64(sims.count))
        sims.append(sim)
    }

    /// The candidates reordered by place, and each place's range of them, places ascending.
    func byLocation() -> (sims: [Int32], places: [(location: Int32, range: Range<Int>)]) {
        let sorted = keys.sorted()
        var ordered: [Int32] = []
        ordered.reserveCapacity(sorted.count)
        var places: [(location: Int32, range: Range<Int>)] = []
        var index = 0
        while index < sorted.count {
            let place = sorted[index] >> 32
            let start = index
            while index < sorted.count, sorted[index] >> 32 == place {
                ordered.append(sims[Int(truncatingIfNeeded: sorted[index] & 0xFFFF_FFFF)])
                index += 1
            }
            let location = Int32(bitPattern: UInt32(truncatingIfNeeded: place) ^ 0x8000_0000)
            places.append((location, start..<index))
        }
        return (ordered, places)
    }
}

/// A candidate given to a cluster at one place, in one evaluation.
struct Assignment: Equatable {
    var cluster: Int
    var location: Int32
    var sim: Int32

    /// The clusters among `assignments`, those with most first (the smaller key on a tie).
    static func clustersByMembers(_ assignments: ArraySlice<Assignment>) -> [Int] {
        var counted: [(cluster: Int, count: Int)] = []
        for key in assignments.map(\.cluster).sorted() {
            if let last = counted.last, last.cluster == key {
                counted[counted.count - 1].count += 1
            } else {
                counted.append((key, 1))
            }
        }
        return counted.sorted { ($0.count, $1.cluster) > ($1.count, $0.cluster) }.map(\.cluster)
    }

    /// The assignments' positions by cluster, and by position within one: as integers
    /// packing both when the keys allow (a sort comparing through a closure was a sixth of
    /// the tracking's cost).
    static func orderByCluster(_ assignments: [Assignment]) -> [Int] {
        guard assignments.allSatisfy({ (0..<(1 << 32)).contains($0.cluster) }) else {
            return assignments.indices.sorted {
                (assignments[$0].cluster, $0) < (assignments[$1].cluster, $1)
            }
        }
        var packed = assignments.indices.map { UInt64($0) | UInt64(assignments[$0].cluster) << 32 }
        packed.sort()
        return packed.map { Int(truncatingIfNeeded: $0 & 0xFFFF_FFFF) }
    }

    /// Each cluster's SIMs in the order they were assigned, clusters by ascending key, with
    /// the place where most of them are (the smaller location number on a tie).
    ///
    /// - Precondition: a cluster's assignments were made place by place, in ascending order
    ///   of location (as `track` makes them), so each place's are contiguous.
    static func byCluster(_ assignments: [Assignment])
        -> [(cluster: Int, sims: [Int32], location: Int32)]
    {
        let order = Self.orderByCluster(assignments)
        var clusters: [(cluster: Int, sims: [Int32], location: Int32)] = []
        var next = 0
        while next < order.count {
            let key = assignments[order[next]].cluster
            var sims: [Int32] = []
            var location = assignments[order[next]].location
            var mostHere = 0
            var runLocation = location
            var runLength = 0
            while next < order.count, assignments[order[next]].cluster == key {
                let assignment = assignments[order[next]]
                sims.append(assignment.sim)
                if runLength > 0, assignment.location == runLocation {
                    runLength += 1
                } else {
                    runLocation = assignment.location
                    runLength = 1
                }
                if runLength > mostHere {
                    mostHere = runLength
                    location = runLocation
                }
                next += 1
            }
            clusters.append((key, sims, location))
        }
        return clusters
    }
}
