import CDRRecords
import SlidingWindows

/// The detector's state, kept in a class so the window's callbacks can update it while the
/// window itself is being mutated.
///
/// Its storage is marked `@exclusivity(unchecked)`: the methods never hold an access to a
/// property while calling out to code that touches the same property, so the runtime's
/// dynamic checks (a fifth of the detector's instructions, measured with callgrind) buy
/// nothing.
final class DetectorState {
    let profile: DetectionProfile
    let windows: WindowConfiguration
    static let day: Int64 = 86_400_000

    // MARK: Per SIM (structure of arrays, indexed by a dense SIM number)

    @exclusivity(unchecked) var simNumbers: [UInt64: Int32] = [:]
    @exclusivity(unchecked) var simByMSISDN: [UInt64: Int32] = [:]
    @exclusivity(unchecked) var imsi: [IMSI] = []
    @exclusivity(unchecked) var msisdn: [PhoneNumber?] = []
    /// The two most recent distinct IMEIs.
    @exclusivity(unchecked) var recentIMEIs: [(IMEI?, IMEI?)] = []
    @exclusivity(unchecked) var lastCell: [CellID] = []
    @exclusivity(unchecked) var lastCallLocation: [Int32] = []
    @exclusivity(unchecked) var firstCall: [Int64] = []
    /// Event time of the latest call placed (admission time, not window time).
    @exclusivity(unchecked) var lastCall: [Int64] = []
    @exclusivity(unchecked) var dataDayStart: [Int64] = []
    @exclusivity(unchecked) var dataInDay: [Int32] = []
    @exclusivity(unchecked) var isHot: [Bool] = []
    /// The last SIM that called this one while dialling out from the same place (-1: none).
    @exclusivity(unchecked) var busyCaller: [Int32] = []
    @exclusivity(unchecked) var hot: [Int32] = []
    // Window aggregates, kept exact by the window's enter and leave steps.
    @exclusivity(unchecked) var callsOut: [Int32] = []
    @exclusivity(unchecked) var callsInExternal: [Int32] = []
    @exclusivity(unchecked) var callsInFromBusy: [Int32] = []
    @exclusivity(unchecked) var answered: [Int32] = []
    @exclusivity(unchecked) var answeredSeconds: [Int64] = []
    @exclusivity(unchecked) var busySeconds: [Int64] = []
    @exclusivity(unchecked) var distinctCallees: [Int32] = []
    @exclusivity(unchecked) var calleeCounts: [CalleeKey: Int32] = [:]

    // MARK: Clusters

    /// Tracked clusters by an internal key (stable while the cluster lives).
    @exclusivity(unchecked) var tracked: [Int: TrackedCluster] = [:]
    var nextTrackingKey = 0
    /// The tracked cluster each SIM belongs to (-1: none): a SIM is in one cluster at most.
    @exclusivity(unchecked) var clusterOfSIM: [Int] = []
    var nextClusterID = 1

    init(profile: DetectionProfile, windows: WindowConfiguration) {
        self.profile = profile
        self.windows = windows
    }

    // MARK: - Records in

    /// Updates the SIM's identity and 24-hour history, and makes the record's window event.
    func admit(_ record: CallRecord, location: Int32) -> WindowEvent {
        let sim = number(of: record.imsi)
        let time = record.eventTime.millisecondsSinceEpoch
        let index = Int(sim)
        if let number = record.msisdn, msisdn[index] == nil {
            msisdn[index] = number
            simByMSISDN[number.rawValue] = sim
        }
        if let imei = record.imei, recentIMEIs[index].0 != imei {
            recentIMEIs[index] = (imei, recentIMEIs[index].0)
        }
        lastCell[index] = record.cell
        if record.type == .data {
            if time - dataDayStart[index] >= Self.day {
                dataDayStart[index] = time
                dataInDay[index] = 0
            }
            dataInDay[index] += 1
        }
        if record.type == .moc {
            lastCallLocation[index] = location
            firstCall[index] = min(firstCall[index], time)
            lastCall[index] = max(lastCall[index], time)
        }
        var fromBusy = false
        if record.type == .mtc, let peer = record.peer, let caller = simByMSISDN[peer.rawValue] {
            // A call from a SIM that is dialling out from the same place: a sibling channel.
            // (Read from the admission-time history: window counts lag by the lateness.)
            fromBusy = firstCall[Int(caller)] != .max && lastCallLocation[Int(caller)] == location
            if fromBusy { busyCaller[index] = caller }
        }
        return WindowEvent(
            peer: record.peer?.rawValue ?? 0, sim: sim,
            durationSeconds: record.durationSeconds ?? -1,
            type: record.type, isFromBusySIM: fromBusy)
    }

    private func number(of imsi: IMSI) -> Int32 {
        if let known = simNumbers[imsi.rawValue] { return known }
        let sim = Int32(self.imsi.count)
        simNumbers[imsi.rawValue] = sim
        self.imsi.append(imsi)
        msisdn.append(nil)
        recentIMEIs.append((nil, nil))
        lastCell.append(CellID(rawValue: 0))
        lastCallLocation.append(-1)
        firstCall.append(.max)
        lastCall.append(.min)
        dataDayStart.append(.min / 2)
        dataInDay.append(0)
        isHot.append(false)
        busyCaller.append(-1)
        clusterOfSIM.append(-1)
        callsOut.append(0)
        callsInExternal.append(0)
        callsInFromBusy.append(0)
        answered.append(0)
        answeredSeconds.append(0)
        busySeconds.append(0)
        distinctCallees.append(0)
        return sim
    }

    // MARK: - Window steps

    func apply(_ step: SlidingWindow<WindowEvent>.Step, into decisions: inout [ClusterDecision]) {
        switch step {
        case .enter(let event): count(event, by: 1)
        case .leave(let event): count(event, by: -1)
        case .evaluate(let end): evaluate(windowEnd: end, into: &decisions)
        }
    }

    private func count(_ event: WindowEvent, by delta: Int32) {
        let sim = Int(event.sim)
        switch event.type {
        case .moc:
            callsOut[sim] += delta
            let seconds = Int64(max(event.durationSeconds, 0))
            if event.durationSeconds > 0 {
                answered[sim] += delta
                answeredSeconds[sim] += Int64(delta) * seconds
            }
            // Talk time, or about 20 s of ringing for an unanswered call.
            busySeconds[sim] += Int64(delta) * (event.durationSeconds > 0 ? seconds : 20)
            if event.peer != 0 {
                let key = CalleeKey(sim: event.sim, peer: event.peer)
                let before = calleeCounts[key, default: 0]
                let after = before + delta
                if after == 0 { calleeCounts[key] = nil } else { calleeCounts[key] = after }
                if before == 0 && after > 0 { distinctCallees[sim] += 1 }
                if before > 0 && after == 0 { distinctCallees[sim] -= 1 }
            }
            if delta > 0, !isHot[sim], Double(callsOut[sim]) >= profile.minCallsPerSIM {
                isHot[sim] = true
                hot.append(event.sim)
            }
        case .mtc:
            if event.isFromBusySIM {
                callsInFromBusy[sim] += delta
            } else {
                callsInExternal[sim] += delta
            }
        case .smsMO, .smsMT, .data:
            break
        }
    }

    // MARK: - Evaluation

    private func evaluate(windowEnd end: Int64, into decisions: inout [ClusterDecision]) {
        var byLocation: [Int32: [Int32]] = [:]
        var stillHot: [Int32] = []
        for sim in hot {
            let index = Int(sim)
            guard Double(callsOut[index]) >= profile.minCallsPerSIM else {
                isHot[index] = false
                continue
            }
            stillHot.append(sim)
            if isChannelCandidate(index, at: end) {
                byLocation[lastCallLocation[index], default: []].append(sim)
            }
        }
        hot = stillHot
        track(byLocation, end: end, into: &decisions)
    }

    private func isChannelCandidate(_ sim: Int, at end: Int64) -> Bool {
        let out = Double(callsOut[sim])
        let outbound = out / (out + Double(callsInExternal[sim]))
        let distinct = Double(distinctCallees[sim]) / out
        let answeredShare = Double(answered[sim]) / out
        let meanAnswered =
            answered[sim] > 0 ? Double(answeredSeconds[sim]) / Double(answered[sim]) : 0
        let data = end - dataDayStart[sim] < Self.day ? Double(dataInDay[sim]) : 0
        return outbound >= profile.minOutboundShare && distinct >= profile.minDistinctCalleeShare
            && answeredShare <= profile.maxAnsweredShare
            && meanAnswered <= profile.maxMeanAnsweredSeconds
            && data <= profile.maxDataSessions24h
    }
}

/// A SIM and one number it called.
struct CalleeKey: Hashable {
    var sim: Int32
    var peer: UInt64
}
