import CDRRecords

/// What one evaluation saw of one cluster's candidate SIMs.
struct Observation {
    var sims: [Int32]
    /// When its SIMs began calling here, or the window began if that is later.
    var activeSince: Int64 = 0
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
    /// Set when flagged; it only ever rises.
    var severity = ClusterDecision.Severity.low
    /// Lifetime, counted from the flagging window on (see `ClusterDecision.Lifetime`).
    var firstSeen: Int64 = 0
    var callsOut = 0
    var peakSIMs = 0
}

extension DetectorState {
    // MARK: - Tracking clusters

    /// Continues, starts and ends tracked clusters from this evaluation's channel candidates.
    ///
    /// A candidate that belongs to a cluster continues it, wherever it is now: two boxes at
    /// one site, or a mobile box passing another, stay apart. A candidate that belongs to
    /// none joins the cluster with most members at its location (a SIM bank's fresh SIMs,
    /// a growing box), or, where no cluster is, the newcomers found one when they are at
    /// least `min_sims`.
    func track(_ candidates: Candidates, end: Int64, into decisions: inout [ClusterDecision]) {
        // Which cluster each candidate goes to, place by place, in one flat list grouped by
        // cluster afterwards: dictionaries of arrays per cluster and per place, built anew
        // every minute, cost a tenth of the detector's instructions at a busy hub.
        var assignments: [Assignment] = []
        // Reused place after place: most places have a newcomer or two and nothing else.
        var newcomers: [Int32] = []
        var founders: [Int32] = []
        let (candidateSIMs, places) = candidates.byLocation()
        for (location, range) in places {
            newcomers.removeAll(keepingCapacity: true)
            let firstHere = assignments.count
            for sim in candidateSIMs[range] {
                let key = Int(history[sim].cluster)
                if key >= 0, tracked[key] != nil {
                    assignments.append(Assignment(cluster: key, location: location, sim: sim))
                } else {
                    newcomers.append(sim)
                }
            }
            guard !newcomers.isEmpty else { continue }
            // Most members here first (the smaller key on a tie); a newcomer joins the first
            // cluster it belongs with.
            let hosts = Assignment.clustersByMembers(assignments[firstHere...])
            founders.removeAll(keepingCapacity: true)
            for sim in newcomers {
                if let host = hosts.first(where: { key in
                    tracked[key].map { belongs(sim, with: $0) } ?? false
                }) {
                    assignments.append(Assignment(cluster: host, location: location, sim: sim))
                } else {
                    founders.append(sim)
                }
            }
            for group in foundingGroups(founders) {
                let key = nextTrackingKey
                nextTrackingKey += 1
                tracked[key] = TrackedCluster(
                    sims: [], location: location, lastSeen: end,
                    last: Observation(sims: [], statistics: .init(), score: 0, reasons: []))
                for sim in group {
                    assignments.append(Assignment(cluster: key, location: location, sim: sim))
                }
            }
        }
        for (key, sims, location) in Assignment.byCluster(assignments) {
            // Taken out while it changes and put back below: a copy would share the
            // dictionary's storage of its SIMs, and `formUnion` would copy them all.
            guard var cluster = tracked.removeValue(forKey: key) else { continue }
            // An unflagged cluster too small to flag is not scored: nothing reads its score
            // before it is flagged, and at a busy hub most clusters a minute are such.
            let canFlag = cluster.id != nil || Double(sims.count) >= profile.minSIMs
            let observation =
                canFlag
                ? observe(sortedByIMSI(sims), end: end)
                : Observation(sims: [], statistics: .init(), score: 0, reasons: [])
            let gained = sims.contains { !cluster.sims.contains($0) }
            let moved = !cluster.sims.isEmpty && cluster.location != location
            if cluster.id == nil {
                // Until flagged, a cluster is its current candidates: passers-by who stop
                // calling drop out rather than pile up over a day at a busy place.
                for sim in cluster.sims where history[sim].cluster == Int32(key) {
                    history[sim].cluster = -1
                }
                // Its storage kept: a cluster at a busy place is refilled every minute.
                cluster.sims.removeAll(keepingCapacity: true)
            }
            if cluster.id != nil {
                // Joiners bring the calls they placed in the window; later calls are counted
                // as they enter it (see `count`).
                for sim in sims where !cluster.sims.contains(sim) {
                    cluster.callsOut += Int(counts[sim].callsOut)
                    counts.pointer(to: sim).pointee.isInFlaggedCluster = true
                }
            }
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
                cluster.peakSIMs = max(cluster.peakSIMs, sims.count)
                // Devices change only with new SIMs: group again only then.
                let deviceCount =
                    gained ? deviceCount(of: cluster.sims) : cluster.deviceCount
                let severity = max(cluster.severity, profile.severity(of: observation.score))
                if gained || moved || deviceCount > cluster.deviceCount
                    || severity > cluster.severity
                {
                    cluster.deviceCount = deviceCount
                    cluster.severity = severity
                    decisions.append(decision(.updated, cluster, end: end))
                }
            }
            tracked[key] = cluster
        }
        // A cluster is over when its SIMs have placed no call for a whole window, or none has
        // been a candidate for as long.
        let silentSince = end - windows.widthMilliseconds
        // Found first, then ended in key order: the SIMs' last calls are read only for the
        // clusters still candidates, and only the ending ones are sorted.
        let ending = tracked.compactMap { key, cluster in
            cluster.lastSeen <= silentSince
                || cluster.sims.allSatisfy { history[$0].lastCall <= silentSince } ? key : nil
        }
        for key in ending.sorted() {
            guard let cluster = tracked[key] else { continue }
            if cluster.id != nil { decisions.append(decision(.closed, cluster, end: end)) }
            for sim in cluster.sims where history[sim].cluster == Int32(key) {
                history[sim].cluster = -1
                counts.pointer(to: sim).pointee.isInFlaggedCluster = false
            }
            tracked[key] = nil
        }
    }

    private func flag(
        _ cluster: inout TrackedCluster, end: Int64, into decisions: inout [ClusterDecision]
    ) {
        cluster.id = nextClusterID
        nextClusterID += 1
        cluster.deviceCount = deviceCount(of: cluster.sims)
        cluster.severity = profile.severity(of: cluster.last.score)
        cluster.firstSeen = cluster.last.activeSince
        cluster.callsOut = cluster.last.statistics.callsOut
        cluster.peakSIMs = cluster.last.sims.count
        for sim in cluster.sims { counts.pointer(to: sim).pointee.isInFlaggedCluster = true }
        decisions.append(decision(.flagged, cluster, end: end))
    }

    /// How many devices `sims` are in: unsorted, as the count does not depend on the order.
    private func deviceCount(of sims: Set<Int32>) -> Int {
        var links = deviceLinks(of: Array(sims))
        return links.setCount()
    }

    /// `sims` in order of IMSI, each SIM's order key computed once (comparing IMSIs sorted
    /// every observed cluster's SIMs each minute at a twelfth of the tracking's cost).
    private func sortedByIMSI(_ sims: some Sequence<Int32>) -> [Int32] {
        var keyed = sims.map { (key: imsi(of: $0).orderKey, sim: $0) }
        keyed.sort { $0.key < $1.key }  // no ties: a live SIM's IMSI is its own
        return keyed.map(\.sim)
    }

    private func decision(_ kind: ClusterDecision.Kind, _ cluster: TrackedCluster, end: Int64)
        -> ClusterDecision
    {
        let sims = sortedByIMSI(cluster.sims)
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
            severity: cluster.severity,
            lifetime: ClusterDecision.Lifetime(
                firstSeen: EventTime(millisecondsSinceEpoch: cluster.firstSeen),
                // Records are admitted ahead of the window: report no call after its end.
                lastSeen: EventTime(
                    millisecondsSinceEpoch: min(
                        end, sims.reduce(cluster.firstSeen) { max($0, history[$1].lastCall) })),
                callsOut: cluster.callsOut, peakSIMs: cluster.peakSIMs),
            reasons: cluster.last.reasons)
    }
}
