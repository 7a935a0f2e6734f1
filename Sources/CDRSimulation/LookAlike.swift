import CDRRecords

/// Legitimate traffic that resembles a cat pool in some way and must not be flagged.
///
/// Each kind has the trait that gives it away (docs/simulation.md): call centres work business
/// hours with long calls, repeat customers and inbound calls, and their handsets go home; hub
/// travellers are ordinary and mobile; M2M SIMs use data and SMS, not voice; a telemarketer is
/// one SIM; dual-SIM phones are two IMSIs on one ordinary IMEI; an enterprise gateway calls
/// back the same customers and receives calls.
public struct LookAlike: Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        case callCentre = "call-centre"
        case transportHub = "transport-hub"
        case m2mFarm = "m2m-farm"
        case telemarketer
        case dualSIM = "dual-sim"
        case enterpriseGateway = "enterprise-gateway"
    }

    /// Look-alikes per 100,000 subscribers in a real city of a million (dozens of call
    /// centres, twenty-five busy hubs, dozens of M2M farms, telemarketers and gateways, a few
    /// hundred dual-SIM phones): the default mix of `catpool simulate`.
    public static let realisticDensity: [Kind: Double] = [
        .callCentre: 4, .transportHub: 2.5, .m2mFarm: 4, .telemarketer: 5, .dualSIM: 1,
        .enterpriseGateway: 3,
    ]

    public let id: String
    public let kind: Kind
    public let site: Int
    public let imsis: [UInt64]
    let msisdns: [UInt64]
    /// One IMEI per SIM (dual-SIM pairs share theirs).
    let imeis: [UInt64]
    /// Where each SIM lives outside the look-alike's own place and hours.
    let homes: [Int]
    /// Customers called again and again (call centre, enterprise gateway).
    let customers: [UInt64]
    /// Transport hub: when each traveller arrives, and how long they stay.
    let visitStart: [Int64]
    let visitMilliseconds: [Int64]
    /// Whether each SIM has a data plan: many travellers' and agents' phones have none (feature
    /// phones, data switched off, work SIMs), so "no data" alone never clears a look-alike.
    let usesData: [Bool]
    let seed: UInt64
    let localOffsetMilliseconds: Int64

    init(
        number: Int, kind: Kind, city: City, spanStart: Int64, spanEnd: Int64, firstSIM: Int,
        seed: UInt64, localOffsetSeconds: Int
    ) {
        var random = SimulationRandom(seed: seed, stream: 5000 + UInt64(number))
        self.id = kind.rawValue + "-" + String(number)
        self.kind = kind
        self.seed = seed &+ 7919 &* UInt64(number)
        localOffsetMilliseconds = Int64(localOffsetSeconds) * 1000
        site = random.int(0..<city.sites.count)
        let spanHours = Double(spanEnd - spanStart) / 3_600_000
        let count: Int
        switch kind {
        case .callCentre: count = 30 + random.int(0..<71)  // 30 to 100 agents
        case .transportHub:
            // 100 to 300 travellers an hour on average over the day, about 1.6 times that at
            // the evening peak: a station or a mall, not a bus stop.
            count = max(1, Int(Double(100 + random.int(0..<201)) * spanHours))
        case .m2mFarm: count = 150
        case .telemarketer: count = 1
        case .dualSIM: count = 60
        case .enterpriseGateway: count = 4
        }
        imsis = (0..<count).map { Identity.deviceIMSI(firstSIM + $0) }
        msisdns = (0..<count).map { Identity.deviceMSISDN(firstSIM + $0) }
        switch kind {
        case .m2mFarm:
            imeis = (0..<count).map { _ in
                Identity.imei(tac: 35_405_210, serial: random.int(0..<1_000_000))
            }
        case .enterpriseGateway:
            let base = random.int(0..<900_000)
            imeis = (0..<count).map { Identity.imei(tac: 86_073_604, serial: base + $0) }
        case .dualSIM:
            let phones = (0..<(count / 2)).map { _ in
                Identity.imei(
                    tac: Population.phoneTACs[random.int(0..<Population.phoneTACs.count)],
                    serial: random.int(0..<1_000_000))
            }
            imeis = (0..<count).map { phones[$0 / 2] }
        default:
            imeis = (0..<count).map { _ in
                Identity.imei(
                    tac: Population.phoneTACs[random.int(0..<Population.phoneTACs.count)],
                    serial: random.int(0..<1_000_000))
            }
        }
        homes = (0..<count).map { _ in random.int(0..<city.sites.count) }
        customers = (0..<(kind == .callCentre ? 300 : 60)).map { _ in
            Identity.externalNumber(&random)
        }
        // Arrivals follow the city's daily rhythm; stays last 10 to 40 minutes.
        var starts: [Int64] = []
        var stays: [Int64] = []
        if kind == .transportHub {
            let peak = DaySimulator.diurnal.max() ?? 1
            starts.reserveCapacity(count)
            while starts.count < count {
                let time = spanStart + Int64(random.unit() * Double(spanEnd - spanStart))
                let hour = Int(((time + localOffsetMilliseconds) / 3_600_000) % 24)
                guard random.chance(DaySimulator.diurnal[hour] / peak) else { continue }
                starts.append(time / 1000 * 1000)
                stays.append(Int64(10 + random.int(0..<31)) * 60_000)
            }
        }
        visitStart = starts
        visitMilliseconds = stays
        let dataShare: Double = [Kind.transportHub: 0.6, .callCentre: 0.5][kind] ?? 1
        usesData = (0..<count).map { _ in random.chance(dataShare) }
    }

    /// The cells where the look-alike is itself (its site's sectors).
    func cells(city: City) -> [CellID] { (0..<3).map { city.cell(site: site, sector: $0) } }

    /// Emits the records that start in `[hourStart, hourEnd)`.
    func emit(hourStart: Int64, hourEnd: Int64, city: City, into records: inout [CallRecord]) {
        var random = SimulationRandom(seed: seed, stream: UInt64(hourStart / 1000))
        let localHour = Int(((hourStart + localOffsetMilliseconds) / 3_600_000) % 24)
        let isBusinessHour = (9..<18).contains(localHour)
        func at(_ sim: Int) -> Int64 { hourStart + Int64(random.int(0..<3600)) * 1000 }
        for sim in 0..<imsis.count {
            var place = city.cell(site: homes[sim], sector: sim % 3)
            // Rates per hour for this SIM now: calls out, calls in, SMS out, SMS in, data.
            var rates = (moc: 0.25, mtc: 0.15, smsMO: 0.15, smsMT: 0.15, data: 0.4)
            var callees: [UInt64] = []
            var medianDuration = 60.0
            var answered = 0.8
            switch kind {
            case .callCentre where isBusinessHour:
                place = city.cell(site: site, sector: sim % 3)
                // An outbound campaign: many calls unanswered, few callbacks.
                rates = (moc: 7, mtc: 0.5, smsMO: 0.1, smsMT: 0.1, data: 0.5)
                callees = customers
                medianDuration = 120
                answered = 0.6
            case .transportHub:
                let visit = visitStart[sim]
                let leave = visit + visitMilliseconds[sim]
                if hourStart < leave && visit < hourEnd {
                    emitStay(
                        sim, from: visit, to: leave, hourStart: hourStart, hourEnd: hourEnd,
                        city: city, into: &records)
                }
            case .m2mFarm:
                place = city.cell(site: site, sector: 0)
                rates = (moc: 0.01, mtc: 0, smsMO: 0.5, smsMT: 0.2, data: 6)
            case .telemarketer where isBusinessHour:
                place = city.cell(site: (site + localHour % 3) % city.sites.count, sector: 0)
                rates = (moc: 45, mtc: 3, smsMO: 0.3, smsMT: 0.3, data: 2)
                medianDuration = 80
                answered = 0.55
            case .enterpriseGateway where isBusinessHour:
                place = city.cell(site: site, sector: 1)
                rates = (moc: 6, mtc: 2, smsMO: 0, smsMT: 0, data: 0)
                callees = customers
                medianDuration = 120
                answered = 0.75
            case .enterpriseGateway:
                continue  // the gateway is off outside office hours
            default:
                break
            }
            if !usesData[sim] { rates.data = 0 }
            let imei = IMEI(rawValue14: imeis[sim])
            let imsi = IMSI(rawValue: imsis[sim]) ?? CallRecord.placeholder.imsi
            let msisdn = PhoneNumber(rawValue: msisdns[sim])
            func add(_ type: RecordType, peer: UInt64?, duration: Int32?) {
                let time = at(sim)
                // A traveller's everyday records fall at the hub while they are there.
                let isAtHub =
                    kind == .transportHub && time >= visitStart[sim]
                    && time < visitStart[sim] + visitMilliseconds[sim]
                records.append(
                    CallRecord(
                        eventTime: EventTime(millisecondsSinceEpoch: time), type: type,
                        imsi: imsi, imei: imei,
                        msisdn: msisdn, peer: peer.map(PhoneNumber.init(rawValue:)),
                        durationSeconds: duration,
                        cell: isAtHub ? city.cell(site: site, sector: sim % 3) : place))
            }
            func callDuration() -> Int32 {
                random.chance(answered)
                    ? max(1, Int32(random.logNormal(median: medianDuration, sigma: 0.8))) : 0
            }
            func party() -> UInt64 {
                callees.isEmpty || random.chance(0.1)
                    ? Identity.externalNumber(&random) : callees[random.int(0..<callees.count)]
            }
            for _ in 0..<random.poisson(mean: rates.moc) {
                add(.moc, peer: party(), duration: callDuration())
            }
            for _ in 0..<random.poisson(mean: rates.mtc) {
                add(.mtc, peer: party(), duration: callDuration())
            }
            for _ in 0..<random.poisson(mean: rates.smsMO) {
                add(.smsMO, peer: party(), duration: nil)
            }
            for _ in 0..<random.poisson(mean: rates.smsMT) {
                add(.smsMT, peer: Identity.externalNumber(&random), duration: nil)
            }
            for _ in 0..<random.poisson(mean: rates.data) {
                add(.data, peer: nil, duration: Int32(random.logNormal(median: 300, sigma: 1)))
            }
        }
    }

    /// A traveller's records while passing through the hub: one to three ordinary calls and
    /// a few data sessions, at times drawn once per traveller (a stay can span two hours).
    private func emitStay(
        _ sim: Int, from visit: Int64, to leave: Int64, hourStart: Int64, hourEnd: Int64,
        city: City, into records: inout [CallRecord]
    ) {
        var random = SimulationRandom(seed: seed, stream: 0x5747 ^ (UInt64(sim) << 16))
        let cell = city.cell(site: site, sector: random.int(0..<3))
        let span = Int(max(1, (leave - visit) / 1000))
        let imsi = IMSI(rawValue: imsis[sim]) ?? CallRecord.placeholder.imsi
        let calls = 1 + random.int(0..<3)
        let sessions = usesData[sim] ? random.poisson(mean: 2 * Double(span) / 3600) : 0
        for index in 0..<(calls + sessions) {
            let time = visit + Int64(random.int(0..<span)) * 1000
            let isCall = index < calls
            let answered = random.chance(0.8)
            let duration =
                isCall
                ? (answered ? max(1, Int32(random.logNormal(median: 55, sigma: 1))) : 0)
                : Int32(random.logNormal(median: 240, sigma: 1.2))
            let peer = Identity.externalNumber(&random)
            guard time >= hourStart, time < hourEnd else { continue }
            records.append(
                CallRecord(
                    eventTime: EventTime(millisecondsSinceEpoch: time), type: isCall ? .moc : .data,
                    imsi: imsi, imei: IMEI(rawValue14: imeis[sim]),
                    msisdn: PhoneNumber(rawValue: msisdns[sim]),
                    peer: isCall ? PhoneNumber(rawValue: peer) : nil, durationSeconds: duration,
                    cell: cell))
        }
    }
}
