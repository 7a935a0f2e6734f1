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
    /// Transport hub: when each traveller passes through.
    let visitStart: [Int64]
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
        let count: Int
        switch kind {
        case .callCentre: count = 40
        case .transportHub: count = 400
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
        visitStart = (0..<count).map { _ in
            spanStart + Int64(random.unit() * Double(max(spanEnd - spanStart - 3_600_000, 1)))
        }
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
                rates = (moc: 7, mtc: 1.2, smsMO: 0.1, smsMT: 0.1, data: 0.5)
                callees = customers
                medianDuration = 150
                answered = 0.85
            case .transportHub:
                let visit = visitStart[sim]
                if hourStart < visit + 1_800_000 && visit < hourEnd {
                    place = city.cell(site: site, sector: sim % 3)
                    rates = (moc: 0.8, mtc: 0.5, smsMO: 0.4, smsMT: 0.4, data: 2)
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
            let imei = IMEI(rawValue14: imeis[sim])
            let imsi = IMSI(rawValue: imsis[sim]) ?? CallRecord.placeholder.imsi
            let msisdn = PhoneNumber(rawValue: msisdns[sim])
            func add(_ type: RecordType, peer: UInt64?, duration: Int32?) {
                records.append(
                    CallRecord(
                        eventTime: EventTime(millisecondsSinceEpoch: at(sim)), type: type,
                        imsi: imsi, imei: imei,
                        msisdn: msisdn, peer: peer.map(PhoneNumber.init(rawValue:)),
                        durationSeconds: duration, cell: place))
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
}
