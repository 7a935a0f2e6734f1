import CDRRecords

/// A simulated GOIP gateway: channels that dial out non-stop, each with a SIM and an IMEI.
///
/// Behaviour follows docs/simulation.md (Boxes): the gateway spreads calls evenly over idle
/// channels, most calls go unanswered or are short, callees are many and rarely called
/// twice, and the SIMs neither receive calls nor use data, unless the box is set to fake
/// human traffic.
public struct CatPoolBox: Sendable {
    /// The kinds of box the detector must find.
    public enum Kind: String, CaseIterable, Sendable {
        /// One cell, a SIM per channel, serial IMEIs of one module TAC.
        case standard
        /// Channels camped on the three sectors of one site.
        case sectors
        /// A SIM bank feeds four times as many SIMs as channels; each works 45 minutes, then rests.
        case simBank = "sim-bank"
        /// Every channel carries the same IMEI.
        case sharedIMEI = "shared-imei"
        /// Each SIM session gets a random IMEI of a random TAC.
        case randomIMEI = "random-imei"
        /// The box rides in a vehicle: all channels move to a neighbouring site every 40 minutes.
        case mobile
        /// Idle channels call and text each other to fake inbound traffic; SMS added.
        case interCalling = "inter-calling"
        /// Few calls per channel, longer and more often answered, to stay under thresholds.
        case lowAndSlow = "low-and-slow"
        /// The vendors' "human behaviour" options all on: 4 or 8 channels over a site's three
        /// sectors, each working 30-minute shifts at its own phase with 15-minute rests,
        /// random gaps, half the calls answered, and siblings calling each other.
        case humanised
    }

    public let id: String
    public let kind: Kind
    public let channels: Int
    public let site: Int
    /// The cells the channels camp on (one, or the site's sectors).
    public let cells: [CellID]
    /// Every SIM the box uses over its life (the pool).
    public let imsis: [UInt64]
    public let msisdns: [UInt64]
    /// Channel IMEIs (random-IMEI boxes draw per session instead; see `imei(channel:session:)`).
    public let channelIMEIs: [UInt64]
    public let callsPerChannelHour: Double
    /// Milliseconds a SIM stays in a channel before the bank swaps it (0: never).
    public let rotationMilliseconds: Int64
    public let startMilliseconds: Int64
    public let endMilliseconds: Int64
    /// The sites a mobile box passes through, one per 40-minute leg.
    let route: [Int]
    let answeredShare: Double
    let medianDurationSeconds: Double
    let seed: UInt64
    /// When each channel places its next call.
    var nextCall: [Int64]
    /// When each channel's first shift begins after the box's start (humanised boxes).
    let shiftOffsets: [Int64]
    static let shiftMilliseconds: Int64 = 30 * 60_000
    static let restMilliseconds: Int64 = 15 * 60_000

    /// Gateway-module TACs (GoIP, Ejoin and generic Quectel/SIMCom modules).
    static let moduleTACs = [
        86_117_203, 86_247_004, 35_693_803, 86_428_102, 86_073_604, 35_405_210,
    ]

    static let legMilliseconds: Int64 = 40 * 60_000

    init(
        number: Int, kind: Kind, city: City, spanStart: Int64, spanEnd: Int64, firstSIM: Int,
        seed: UInt64
    ) {
        var random = SimulationRandom(seed: seed, stream: 1000 + UInt64(number))
        self.id = "box-" + String(100 + number).dropFirst()
        self.kind = kind
        self.seed = seed &+ UInt64(number)
        channels =
            [
                Kind.lowAndSlow: 8, .sectors: 16, .simBank: 16, .standard: [8, 16, 32][number % 3],
                .humanised: [4, 8][number % 2],
            ][kind] ?? 8
        let home = random.int(0..<city.sites.count)
        site = home
        let sectors = kind == .sectors || kind == .humanised ? 3 : 1
        let firstSector = random.int(0..<3)
        cells = (0..<sectors).map { city.cell(site: home, sector: (firstSector + $0) % 3) }
        let pool = kind == .simBank ? channels * 4 : channels
        imsis = (0..<pool).map { Identity.deviceIMSI(firstSIM + $0) }
        msisdns = (0..<pool).map { Identity.deviceMSISDN(firstSIM + $0) }
        let tac = Self.moduleTACs[random.int(0..<Self.moduleTACs.count)]
        // Near-consecutive serials: each channel's follows the previous one's, with small gaps.
        var serial = random.int(0..<900_000)
        var imeis: [UInt64] = []
        for _ in 0..<channels {
            imeis.append(Identity.imei(tac: tac, serial: serial))
            if kind != .sharedIMEI { serial += 1 + (random.chance(0.2) ? random.int(1..<4) : 0) }
        }
        channelIMEIs = imeis
        switch kind {
        case .lowAndSlow:
            callsPerChannelHour = 9
            answeredShare = 0.5
            medianDurationSeconds = 90
        case .humanised:
            callsPerChannelHour = 15
            answeredShare = 0.5
            medianDurationSeconds = 75
        default:
            callsPerChannelHour = 24 + Double(random.int(0..<16))
            answeredShare = 0.35
            medianDurationSeconds = 40
        }
        rotationMilliseconds = kind == .simBank ? 45 * 60_000 : 0
        let span = spanEnd - spanStart
        let start = spanStart + Int64(random.unit() * Double(span) * 0.3) / 1000 * 1000
        startMilliseconds = start
        endMilliseconds = min(
            spanEnd, start + Int64((0.45 + 0.4 * random.unit()) * Double(span)) / 1000 * 1000)
        var route = [site]
        if kind == .mobile {
            var direction = random.int(0..<4)
            for _ in 0..<Int(span / Self.legMilliseconds + 1) {
                if random.chance(0.3) { direction = random.int(0..<4) }
                let here = route[route.count - 1]
                var next = city.neighbour(of: here, direction: direction)
                // At the edge of town the vehicle turns rather than stands still.
                for turn in 1..<4 where next == here {
                    next = city.neighbour(of: here, direction: direction + turn)
                    if next != here { direction += turn }
                }
                route.append(next)
            }
        }
        self.route = route
        // A humanised box brings its channels online one by one over 20 minutes.
        shiftOffsets = (0..<channels).map { _ in
            kind == .humanised ? Int64(random.int(0..<1200)) * 1000 : 0
        }
        nextCall = shiftOffsets.map { start + $0 + Int64(random.int(0..<60_000)) }
    }

    /// The pool index of the SIM in `channel` at `time`.
    func simIndex(channel: Int, at time: Int64) -> Int {
        guard rotationMilliseconds > 0 else { return channel }
        let session = Int((time - startMilliseconds) / rotationMilliseconds)
        return (channel + session * channels) % imsis.count
    }

    /// The IMEI `channel` reports at `time`.
    func imei(channel: Int, at time: Int64) -> UInt64 {
        guard kind == .randomIMEI else { return channelIMEIs[channel] }
        // A fresh IMEI per SIM session (the box rewrites it whenever a SIM comes in).
        let session = UInt64((time - startMilliseconds) / (30 * 60_000))
        var random = SimulationRandom(seed: seed, stream: 0xBEEF ^ (session << 8) ^ UInt64(channel))
        return Identity.imei(
            tac: 35_000_000 + random.int(0..<60_000_000), serial: random.int(0..<1_000_000))
    }

    /// The cell `channel` camps on at `time`.
    func cell(channel: Int, at time: Int64, city: City) -> CellID {
        if kind == .mobile {
            let leg = Int((time - startMilliseconds) / Self.legMilliseconds)
            return city.cell(site: route[min(leg, route.count - 1)], sector: 0)
        }
        return cells[channel % cells.count]
    }

    /// Every cell the box can appear on.
    func allCells(city: City) -> [CellID] {
        kind == .mobile ? route.map { city.cell(site: $0, sector: 0) } : cells
    }

    /// Emits the box's records that start in `[hourStart, hourEnd)`.
    mutating func emit(
        hourStart: Int64, hourEnd: Int64, city: City, into records: inout [CallRecord]
    ) {
        var random = SimulationRandom(seed: seed, stream: UInt64(hourStart / 1000))
        let end = min(hourEnd, endMilliseconds)
        let meanGap = 3_600_000 / callsPerChannelHour
        for channel in 0..<channels {
            while nextCall[channel] < end {
                let time = nextCall[channel]
                let answered = random.chance(answeredShare)
                let duration =
                    answered
                    ? max(1, Int32(random.logNormal(median: medianDurationSeconds, sigma: 0.7))) : 0
                let sim = simIndex(channel: channel, at: time)
                let cell = self.cell(channel: channel, at: time, city: city)
                let imei = self.imei(channel: channel, at: time)
                var peer = Identity.externalNumber(&random)
                if kind == .interCalling || kind == .humanised, random.chance(0.15) {
                    // A call to another channel of the same box: it shows up as inbound there.
                    let other = (channel + 1 + random.int(0..<(channels - 1))) % channels
                    let otherSIM = simIndex(channel: other, at: time)
                    peer = msisdns[otherSIM]
                    records.append(
                        record(
                            time, .mtc, otherSIM, imei: self.imei(channel: other, at: time),
                            peer: msisdns[sim], duration: duration,
                            cell: self.cell(channel: other, at: time, city: city)))
                }
                records.append(
                    record(time, .moc, sim, imei: imei, peer: peer, duration: duration, cell: cell))
                if kind == .interCalling || kind == .humanised, random.chance(0.1) {
                    let other = (channel + 1) % channels
                    let otherSIM = simIndex(channel: other, at: time)
                    let smsTime = time + Int64(random.int(1..<30)) * 1000
                    records.append(
                        record(
                            smsTime, .smsMO, sim, imei: imei, peer: msisdns[otherSIM],
                            duration: nil, cell: cell))
                    records.append(
                        record(
                            smsTime, .smsMT, otherSIM, imei: self.imei(channel: other, at: smsTime),
                            peer: msisdns[sim], duration: nil,
                            cell: self.cell(channel: other, at: smsTime, city: city)))
                }
                // Ring time for unanswered calls, then the next dial after a short pause.
                let busy = Int64(duration > 0 ? Int(duration) : 15 + random.int(0..<30)) * 1000
                let pause = Int64(random.exponential(mean: max(5_000, meanGap - Double(busy))))
                nextCall[channel] = time + busy + max(3_000, pause) / 1000 * 1000
                if kind == .humanised {
                    // Past the end of its shift, the channel rests until the next one.
                    let cycle = Self.shiftMilliseconds + Self.restMilliseconds
                    let into =
                        (nextCall[channel] - startMilliseconds - shiftOffsets[channel]) % cycle
                    if into >= Self.shiftMilliseconds { nextCall[channel] += cycle - into }
                }
            }
        }
    }

    private func record(
        _ time: Int64, _ type: RecordType, _ sim: Int, imei: UInt64, peer: UInt64, duration: Int32?,
        cell: CellID
    ) -> CallRecord {
        CallRecord(
            eventTime: EventTime(millisecondsSinceEpoch: time), type: type,
            imsi: IMSI(rawValue: imsis[sim]) ?? CallRecord.placeholder.imsi,
            imei: IMEI(rawValue14: imei), msisdn: PhoneNumber(rawValue: msisdns[sim]),
            peer: PhoneNumber(rawValue: peer), durationSeconds: duration, cell: cell)
    }
}
