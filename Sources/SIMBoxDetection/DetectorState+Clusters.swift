import CDRRecords

/// What one evaluation saw of one cluster's candidate SIMs.
struct Observation {
    var sims: [Int32]
    var statistics: ClusterDecision.Statistics
    var score: Double
    var reasons: [ClusterDecision.Reason]
}

/// A cluster followed from one evaluation to the next.
struct TrackedCluster {
    /// Every SIM the cluster has shown.
    var sims: Set<Int32>
    var location: Int32
    var lastSeen: Int64
    var last: Observation
    /// The public number, given when first flagged.
    var id: Int?
    var deviceCount = 0
}

extension DetectorState {
    // MARK: - Observing a cluster

    func observe(_ sims: [Int32], end: Int64) -> Observation {
        var statistics = ClusterDecision.Statistics()
        var answeredSeconds: Int64 = 0
        var busy: Int64 = 0
        var earliest = Int64.max
        var dataFree = 0
        for sim in sims {
            let counts = self.counts[sim]
            let history = self.history[sim]
            statistics.callsOut += Int(counts.callsOut)
            statistics.callsIn += Int(counts.callsInExternal)
            statistics.callsBetweenSIMs += Int(counts.callsInFromBusy)
            statistics.distinctCallees += Int(counts.distinctCallees)
            statistics.answeredShare += Double(counts.answered)
            answeredSeconds += Int64(counts.answeredSeconds)
            busy += Int64(counts.busySeconds)
            earliest = min(earliest, history.firstCall)
            if end - history.dataDayStart >= Self.day || history.dataInDay == 0 { dataFree += 1 }
        }
        let out = Double(max(statistics.callsOut, 1))
        let answeredCalls = statistics.answeredShare
        statistics.meanDurationSeconds =
            answeredCalls > 0 ? rounded(Double(answeredSeconds) / answeredCalls) : 0
        statistics.answeredShare = rounded(answeredCalls / out)
        // The span the calls were made over: the window, or less for a cluster that just started.
        let spanStart = max(end - windows.widthMilliseconds, earliest)
        let spanMinutes = max(
            Double(end - spanStart) / 60_000, Double(windows.hopMilliseconds) / 60_000)
        statistics.callsPerMinute = rounded(Double(statistics.callsOut) / spanMinutes)
        statistics.meanConcurrentCalls = rounded(Double(busy) / (spanMinutes * 60))

        let outbound = rounded(Double(statistics.callsOut) / (out + Double(statistics.callsIn)))
        let distinct = rounded(Double(statistics.distinctCallees) / out)
        let noData = rounded(Double(dataFree) / Double(sims.count))
        let groups = devices(of: sims)
        let linked = rounded(
            Double(groups.filter { $0.count > 1 }.reduce(0) { $0 + $1.count }) / Double(sims.count))
        let features: [(weight: Double, value: Double)] = [
            (0.25, min(1, Double(sims.count) / 8)),
            (0.20, clamp((outbound - 0.5) / 0.5)),
            (0.15, clamp(distinct)),
            (0.10, clamp((0.9 - statistics.answeredShare) / 0.5)),
            (0.15, min(1, statistics.callsPerMinute / profile.saturatingCallsPerMinute)),
            (0.10, noData),
            (0.05, linked),
        ]
        let score = rounded(features.reduce(0) { $0 + $1.weight * $1.value })
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
                code: "calls_per_minute", value: statistics.callsPerMinute,
                threshold: profile.saturatingCallsPerMinute),
            .init(code: "no_data_24h_share", value: noData, threshold: 1),
            .init(code: "linked_sim_share", value: linked, threshold: 0.5),
        ]
        if statistics.callsBetweenSIMs > 0 {
            reasons.append(
                .init(
                    code: "calls_between_sims", value: Double(statistics.callsBetweenSIMs),
                    threshold: 1))
        }
        return Observation(sims: sims, statistics: statistics, score: score, reasons: reasons)
    }

    /// Links SIMs into devices; returns groups of positions in `sims`, each sorted, sorted by first.
    ///
    /// - Complexity: O(n²) in the number of SIMs of one cluster (tens, rarely hundreds).
    func devices(of sims: [Int32]) -> [[Int]] {
        var parent = Array(sims.indices)
        func root(_ node: Int) -> Int {
            var node = node
            while parent[node] != node {
                parent[node] = parent[parent[node]]
                node = parent[node]
            }
            return node
        }
        let position = Dictionary(
            uniqueKeysWithValues: sims.enumerated().map { (history[$0.element].imsi, $0.offset) })
        @inline(__always) func near(_ x: UInt64, _ y: UInt64) -> Bool {
            guard x != 0, y != 0 else { return false }
            // Packed IMEIs hold TAC * 10^6 + serial: one TAC and serials at most 64 apart.
            return x / 1_000_000 == y / 1_000_000 && (x > y ? x - y : y - x) <= 64
        }
        for a in sims.indices {
            let (a0, a1) = (history[sims[a]].imei0, history[sims[a]].imei1)
            if let callerIMSI = busyCallers[sims[a]], let caller = position[callerIMSI] {
                parent[root(a)] = root(caller)
            }
            for b in (a + 1)..<sims.count {
                let (b0, b1) = (history[sims[b]].imei0, history[sims[b]].imei1)
                if near(a0, b0) || near(a0, b1) || near(a1, b0) || near(a1, b1) {
                    parent[root(b)] = root(a)
                }
            }
        }
        var groups: [Int: [Int]] = [:]
        for index in sims.indices { groups[root(index), default: []].append(index) }
        return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
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

    // MARK: - Tracking clusters

    /// Continues, starts and ends tracked clusters from this evaluation's channel candidates.
    ///
    /// A candidate that belongs to a cluster continues it, wherever it is now: two boxes at
    /// one site, or a mobile box passing another, stay apart. A candidate that belongs to
    /// none joins the cluster with most members at its location (a SIM bank's fresh SIMs,
    /// a growing box), or, where no cluster is, the newcomers found one when they are at
    /// least `min_sims`.
    func track(_ candidates: [Int32: [Int32]], end: Int64, into decisions: inout [ClusterDecision])
    {
        var members: [Int: [Int32]] = [:]  // cluster key → its candidates this round
        var placesOfCluster: [Int: [Int32: Int]] = [:]  // cluster key → location → SIMs there
        for location in candidates.keys.sorted() {
            guard let sims = candidates[location] else { continue }
            var newcomers: [Int32] = []
            var here: [Int: Int] = [:]
            for sim in sims {
                let key = Int(history[sim].cluster)
                if key >= 0, tracked[key] != nil {
                    members[key, default: []].append(sim)
                    here[key, default: 0] += 1
                    placesOfCluster[key, default: [:]][location, default: 0] += 1
                } else {
                    newcomers.append(sim)
                }
            }
            guard !newcomers.isEmpty else { continue }
            if let host = here.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key {
                members[host, default: []].append(contentsOf: newcomers)
                placesOfCluster[host, default: [:]][location, default: 0] += newcomers.count
            } else if Double(newcomers.count) >= profile.minSIMs {
                let key = nextTrackingKey
                nextTrackingKey += 1
                tracked[key] = TrackedCluster(
                    sims: [], location: location, lastSeen: end,
                    last: Observation(sims: [], statistics: .init(), score: 0, reasons: []))
                members[key] = newcomers
                placesOfCluster[key] = [location: newcomers.count]
            }
        }
        for key in members.keys.sorted() {
            guard var cluster = tracked[key], let sims = members[key],
                let places = placesOfCluster[key]
            else { continue }
            let location =
                places.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key ?? cluster.location
            let observation = observe(
                sims.sorted { imsi(of: $0) < imsi(of: $1) }, end: end)
            let gained = sims.contains { !cluster.sims.contains($0) }
            let moved = !cluster.sims.isEmpty && cluster.location != location
            for sim in sims { history[sim].cluster = Int32(key) }
            cluster.sims.formUnion(sims)
            cluster.location = location
            cluster.lastSeen = end
            cluster.last = observation
            if cluster.id == nil {
                if observation.score >= profile.scoreThreshold,
                    Double(sims.count) >= profile.minSIMs
                {
                    flag(&cluster, end: end, into: &decisions)
                }
            } else {
                // Devices change only with new SIMs: group again only then.
                let deviceCount =
                    gained ? devices(of: sortedSIMs(cluster.sims)).count : cluster.deviceCount
                if gained || moved || deviceCount > cluster.deviceCount {
                    cluster.deviceCount = deviceCount
                    decisions.append(decision(.updated, cluster, end: end))
                }
            }
            tracked[key] = cluster
        }
        // A cluster is over when its SIMs have placed no call for a whole window, or none has
        // been a candidate for as long.
        let silentSince = end - windows.widthMilliseconds
        for key in tracked.keys.sorted() {
            guard let cluster = tracked[key] else { continue }
            let newestCall = cluster.sims.reduce(Int64.min) { max($0, history[$1].lastCall) }
            guard cluster.lastSeen <= silentSince || newestCall <= silentSince else { continue }
            if cluster.id != nil { decisions.append(decision(.closed, cluster, end: end)) }
            for sim in cluster.sims where history[sim].cluster == Int32(key) {
                history[sim].cluster = -1
            }
            tracked[key] = nil
        }
    }

    private func flag(
        _ cluster: inout TrackedCluster, end: Int64, into decisions: inout [ClusterDecision]
    ) {
        cluster.id = nextClusterID
        nextClusterID += 1
        cluster.deviceCount = devices(of: sortedSIMs(cluster.sims)).count
        decisions.append(decision(.flagged, cluster, end: end))
    }

    private func sortedSIMs(_ sims: Set<Int32>) -> [Int32] {
        sims.sorted { imsi(of: $0) < imsi(of: $1) }
    }

    private func decision(_ kind: ClusterDecision.Kind, _ cluster: TrackedCluster, end: Int64)
        -> ClusterDecision
    {
        let sims = sortedSIMs(cluster.sims)
        let entries = sims.map { sim in
            ClusterDecision.SIM(
                imsi: imsi(of: sim),
                msisdn: history[sim].msisdn == 0 ? nil : PhoneNumber(rawValue: history[sim].msisdn),
                imeis: Array(Set(imeis(of: sim))).sorted())
        }
        let cells = Array(Set(cluster.last.sims.map { CellID(rawValue: history[$0].lastCell) }))
            .sorted()
        return ClusterDecision(
            kind: kind, clusterID: cluster.id ?? 0, location: cluster.location, cells: cells,
            windowStart: EventTime(millisecondsSinceEpoch: end - windows.widthMilliseconds),
            windowEnd: EventTime(millisecondsSinceEpoch: end), sims: entries,
            devices: devices(of: sims),
            statistics: cluster.last.statistics, score: cluster.last.score,
            reasons: cluster.last.reasons)
    }
}

private func clamp(_ value: Double) -> Double { min(1, max(0, value)) }

/// Three decimals, so scores and shares print the same everywhere.
private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
