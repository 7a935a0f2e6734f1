import CDRRecords

extension DetectorState {
    // MARK: - Observing a cluster

    func observe(_ sims: [Int32], end: Int64) -> Observation {
        var statistics = ClusterDecision.Statistics()
        var answeredCalls = 0.0
        var answeredSeconds: Int64 = 0
        var busy: Int64 = 0
        var earliest = Int64.max
        var dataFree = 0
        var rates: [Double] = []
        rates.reserveCapacity(sims.count)
        let windowStart = end - windows.widthMilliseconds
        for sim in sims {
            let counts = self.counts[sim]
            let history = self.history[sim]
            statistics.callsOut += Int(counts.callsOut)
            statistics.callsIn += Int(counts.callsInExternal)
            statistics.callsBetweenSIMs += Int(counts.callsInFromBusy)
            statistics.distinctCallees += Int(counts.distinctCallees)
            answeredCalls += Double(counts.answered)
            answeredSeconds += Int64(counts.answeredSeconds)
            busy += Int64(counts.busySeconds)
            earliest = min(earliest, history.arrival)
            if end - history.dataDayStart >= Self.day || history.dataInDay == 0 { dataFree += 1 }
            // Calls an hour since the SIM came here (or the window began), over ten minutes
            // at least: a channel dials back to back, a person now and then.
            let here = Double(end - max(windowStart, history.arrival))
            rates.append(Double(counts.callsOut) * 3_600_000 / max(here, 600_000))
        }
        let out = Double(max(statistics.callsOut, 1))
        statistics.meanDurationSeconds =
            answeredCalls > 0 ? rounded(Double(answeredSeconds) / answeredCalls) : 0
        statistics.answeredShare = rounded(answeredCalls / out)
        // The span the calls were made over: the window, or less for a cluster that just started.
        let spanStart = max(windowStart, earliest)
        let spanMinutes = max(
            Double(end - spanStart) / 60_000, Double(windows.hopMilliseconds) / 60_000)
        statistics.callsPerMinute = rounded(Double(statistics.callsOut) / spanMinutes)
        statistics.meanConcurrentCalls = rounded(Double(busy) / (spanMinutes * 60))

        let outbound = rounded(Double(statistics.callsOut) / (out + Double(statistics.callsIn)))
        let distinct = rounded(Double(statistics.distinctCallees) / out)
        let noData = rounded(Double(dataFree) / Double(sims.count))
        // "No data" means little before the detector has seen a day: weigh it by the hours seen.
        let observedHours = rounded(
            Double(max(0, min(Self.day, end - observedSince))) / 3_600_000)
        var links = deviceLinks(of: sims)
        let linked = rounded(Double(links.joinedCount()) / Double(sims.count))
        let calling = rounded(Double(callingSiblings(sims)) / Double(sims.count))
        let simRate = rounded(median(rates))
        let apart = rounded(Double(arrivedApart(sims)) / Double(sims.count))
        let together = rounded(Double(arrivedTogether(sims)) / Double(sims.count))
        let features: [(weight: Double, value: Double)] = [
            (0.10, min(1, Double(sims.count) / 8)),
            (0.10, clamp((outbound - 0.5) / 0.5)),
            (0.05, clamp(distinct)),
            // People answer about four calls in five; a box's callees, one in three.
            (0.10, clamp((0.8 - statistics.answeredShare) / 0.4)),
            (0.10, clamp((180 - statistics.meanDurationSeconds) / 120)),
            (0.20, clamp((simRate * 1.5 / profile.machineCallsPerSIMHour) - 0.5)),
            (0.15, together),
            (0.05, noData * observedHours / 24),
            // One gateway: channels of one module, or channels calling each other.
            (0.15, max(linked, calling)),
            // People reach a place each from their own; a box's SIMs were nowhere else.
            (-0.5, apart),
        ]
        let score = rounded(clamp(features.reduce(0) { $0 + $1.weight * $1.value }))
        var reasons: [ClusterDecision.Reason] = [
            .init(code: "sims", value: Double(sims.count), threshold: profile.minSIMs),
            .init(code: "outbound_share", value: outbound, threshold: profile.minOutboundShare),
            .init(
                code: "distinct_callee_share", value: distinct,
                threshold: profile.minDistinctCalleeShare),
            .init(
                code: "answered_share", value: statistics.answeredShare,
                threshold: profile.maxAnsweredShare),
            .init(
                code: "mean_answered_seconds", value: statistics.meanDurationSeconds,
                threshold: profile.maxMeanAnsweredSeconds),
            .init(
                code: "calls_per_sim_hour", value: simRate,
                threshold: profile.machineCallsPerSIMHour),
            .init(
                code: "calls_per_minute", value: statistics.callsPerMinute,
                threshold: profile.saturatingCallsPerMinute),
            .init(code: "no_data_24h_share", value: noData, threshold: 1),
            .init(code: "observed_hours", value: observedHours, threshold: 24),
            .init(code: "linked_sim_share", value: linked, threshold: 0.5),
            .init(code: "calling_sims_share", value: calling, threshold: 0.5),
            .init(code: "arrived_together_share", value: together, threshold: 0.5),
            .init(code: "arrived_apart_share", value: apart, threshold: 0.5),
        ]
        if statistics.callsBetweenSIMs > 0 {
            reasons.append(
                .init(
                    code: "calls_between_sims", value: Double(statistics.callsBetweenSIMs),
                    threshold: 1))
        }
        return Observation(
            sims: sims, activeSince: spanStart, statistics: statistics, score: score,
            reasons: reasons)
    }

    /// How many of `sims` were called by another of them dialling out from the same place,
    /// or called one so (a box's "inter-calling" to fake inbound traffic).
    func callingSiblings(_ sims: [Int32]) -> Int {
        // Most clusters have no SIM called so (a bit per SIM answers): no sets to build.
        guard sims.contains(where: { busyCallers[$0] != nil }) else { return 0 }
        let imsis = Set(sims.map { history[$0].imsi })
        var callers = Set<UInt64>()
        var called = 0
        for sim in sims {
            guard let caller = busyCallers[sim], imsis.contains(caller) else { continue }
            called += 1
            callers.insert(caller)
        }
        return called
            + sims.filter { callers.contains(history[$0].imsi) && busyCallers[$0] == nil }.count
    }

    /// How many of `sims` came here within 90 seconds of another of them: a box's channels
    /// start together and a SIM bank swaps SIMs in batches, where travellers come one by one.
    ///
    /// A SIM first seen in the first minutes of what the detector has seen may have been
    /// there long before: its arrival is unknown, and counts for nothing.
    func arrivedTogether(_ sims: [Int32]) -> Int {
        let near: Int64 = 90_000
        let known = observedSince == .max ? Int64.max : observedSince + 5 * 60_000
        var arrivals: [Int64] = []
        arrivals.reserveCapacity(sims.count)
        for sim in sims where history[sim].arrival >= known {
            arrivals.append(history[sim].arrival)
        }
        arrivals.sort()
        var together = 0
        for index in arrivals.indices
        where (index > 0 && arrivals[index] - arrivals[index - 1] <= near)
            || (index + 1 < arrivals.count && arrivals[index + 1] - arrivals[index] <= near)
        {
            together += 1
        }
        return together
    }

    /// How many distinct places `sims` came here from.
    ///
    /// 0 when all that came from elsewhere came from one place together (a box on the
    /// move). Travellers and agents each come from a place of their own (a few may
    /// share one: neighbours); a box's SIMs were nowhere else before.
    func arrivedApart(_ sims: [Int32]) -> Int {
        var origins: [UInt16: Int] = [:]
        for sim in sims where history[sim].cameFromElsewhere {
            origins[history[sim].originTag, default: 0] += 1
        }
        if origins.count == 1, let only = origins.values.first, only > 1 { return 0 }
        return origins.count
    }

    /// Links SIMs into devices; returns groups of positions in `sims`, each sorted, sorted by first.
    ///
    /// Two SIMs are linked when they `shareADevice` or one called the other from here.
    ///
    /// - Complexity: O(n log n) in the number of SIMs of one cluster: sorted, an IMEI needs
    ///   comparing with its neighbour only, as a chain of steps of at most 64 serials links
    ///   the same SIMs as every pair within 64 would. (Every pair was compared once: 86 of
    ///   the 165 million instructions observing a dense city's clusters over 1.5 M records.)
    func devices(of sims: [Int32]) -> [[Int]] {
        var links = deviceLinks(of: sims)
        return links.sets()
    }

    /// The SIMs of `sims` linked into devices, by position (see `devices(of:)`): for
    /// callers that need only how many devices there are, or how many SIMs are linked.
    func deviceLinks(of sims: [Int32]) -> DisjointSets {
        var groups = DisjointSets(count: sims.count)
        var imeis: [(imei: UInt64, position: Int)] = []
        imeis.reserveCapacity(2 * sims.count)
        for (position, sim) in sims.enumerated() {
            let record = history[sim]
            if record.imei0 != 0 { imeis.append((record.imei0, position)) }
            if record.imei1 != 0 { imeis.append((record.imei1, position)) }
        }
        imeis.sort { $0.imei < $1.imei }
        for index in imeis.indices.dropFirst() {
            let (previous, current) = (imeis[index - 1], imeis[index])
            // Packed IMEIs are TAC × 10^6 + serial (above 10^14).
            if previous.imei / 1_000_000 == current.imei / 1_000_000,
                current.imei - previous.imei <= 64
            {
                groups.join(previous.position, current.position)
            }
        }
        var position: [UInt64: Int]?
        for a in sims.indices {
            guard let callerIMSI = busyCallers[sims[a]] else { continue }
            if position == nil {
                position = Dictionary(
                    uniqueKeysWithValues: sims.enumerated().map {
                        (history[$0.element].imsi, $0.offset)
                    })
            }
            if let caller = position?[callerIMSI] { groups.join(a, caller) }
        }
        return groups
    }

    /// Whether two SIMs were seen in one device: the same IMEI, or IMEIs of one TAC with
    /// serials at most 64 apart (a gateway's channels).
    static func shareADevice(_ a: SIMHistory, _ b: SIMHistory) -> Bool {
        @inline(__always) func near(_ x: UInt64, _ y: UInt64) -> Bool {
            guard x != 0, y != 0 else { return false }
            // Packed IMEIs hold TAC * 10^6 + serial.
            return x / 1_000_000 == y / 1_000_000 && (x > y ? x - y : y - x) <= 64
        }
        return near(a.imei0, b.imei0) || near(a.imei0, b.imei1) || near(a.imei1, b.imei0)
            || near(a.imei1, b.imei1)
    }

    /// Whether a newcomer belongs with `cluster`'s SIMs.
    ///
    /// It does when it came here with one of them (a box's channels start together, a
    /// vehicle brings them all at once), shares a device with one (a SIM bank puts fresh SIMs
    /// into the same channels), or was called by one from here. A passer-by at a box's site
    /// is none of these.
    func belongs(_ sim: Int32, with cluster: TrackedCluster) -> Bool {
        cluster.sims.contains { areLinked(sim, $0) }
    }

    /// Whether two SIMs at one place look like parts of one device: they came together, or
    /// were seen in one device, or one called the other from here.
    func areLinked(_ a: Int32, _ b: Int32) -> Bool {
        let (first, second) = (history[a], history[b])
        let known = observedSince == .max ? Int64.max : observedSince + 5 * 60_000
        let bothUnknown = first.arrival < known && second.arrival < known
        return bothUnknown || abs(first.arrival - second.arrival) <= 90_000
            || Self.shareADevice(first, second) || busyCallers[a] == second.imsi
            || busyCallers[b] == first.imsi
    }

    /// The clusters that newcomers in none found at one place.
    ///
    /// Each group of at least `min_sims` SIMs linked to one another (a box's channels),
    /// and then, when the SIMs linked to none are still `min_sims` or more, those as one
    /// loose group for the score to judge (people who happen to call alike, or a box whose
    /// channels came one by one). Smaller linked groups wait for their next members. So an
    /// ordinary caller at a box's site when the box is first seen is not swept into it.
    func foundingGroups(_ sims: [Int32]) -> [[Int32]] {
        guard Double(sims.count) >= profile.minSIMs else { return [] }
        var linked = DisjointSets(count: sims.count)
        for a in sims.indices {
            for b in (a + 1)..<sims.count where areLinked(sims[a], sims[b]) {
                linked.join(a, b)
            }
        }
        var groups: [[Int32]] = []
        var rest: [Int32] = []
        for set in linked.sets() {
            if Double(set.count) >= profile.minSIMs {
                groups.append(set.map { sims[$0] })
            } else if set.count == 1 {
                rest.append(sims[set[0]])
            }
        }
        if Double(rest.count) >= profile.minSIMs { groups.append(rest) }
        return groups
    }

    func imeis(of sim: Int32) -> [IMEI] {
        [history[sim].imei0, history[sim].imei1].filter { $0 != 0 }.map { IMEI(rawValue14: $0) }
    }

    func imsi(of sim: Int32) -> IMSI {
        guard let imsi = IMSI(rawValue: history[sim].imsi) else {
            preconditionFailure("SIM \(sim) has no IMSI: evicted while in a cluster")
        }
        return imsi
    }
}

/// Union-find over `0..<count`, with path halving.
struct DisjointSets {
    private var parent: [Int]

    init(count: Int) { parent = Array(0..<count) }

    mutating func root(_ node: Int) -> Int {
        var node = node
        while parent[node] != node {
            parent[node] = parent[parent[node]]
            node = parent[node]
        }
        return node
    }

    mutating func join(_ a: Int, _ b: Int) { parent[root(b)] = root(a) }

    /// The sets, each sorted, sorted by their first member.
    ///
    /// Taken in node order, a set is met first at its first member, so numbering sets as
    /// they are met sorts them (a dictionary of sets, sorted after, cost a fifth of a busy
    /// city's per-minute evaluation).
    mutating func sets() -> [[Int]] {
        var setOfRoot = [Int](repeating: -1, count: parent.count)
        var sets: [[Int]] = []
        for node in parent.indices {
            let root = root(node)
            if setOfRoot[root] < 0 {
                setOfRoot[root] = sets.count
                sets.append([])
            }
            sets[setOfRoot[root]].append(node)
        }
        return sets
    }

    /// How many sets there are.
    mutating func setCount() -> Int {
        parent.indices.reduce(0) { count, node in root(node) == node ? count + 1 : count }
    }

    /// How many nodes share their set with another.
    mutating func joinedCount() -> Int {
        var size = [Int](repeating: 0, count: parent.count)
        for node in parent.indices { size[root(node)] += 1 }
        return size.reduce(0) { $1 > 1 ? $0 + $1 : $0 }
    }
}

private func clamp(_ value: Double) -> Double { min(1, max(0, value)) }

private func median(_ values: consuming [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    values.sort()
    let middle = values.count / 2
    return values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
}

/// Three decimals, so scores and shares print the same everywhere.
private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
