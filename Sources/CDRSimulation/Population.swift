import CDRRecords

/// Ordinary subscribers: people with a home, maybe a workplace and another haunt, a handset,
/// a contact list and a daily rhythm.
///
/// Stored as parallel arrays (one entry per subscriber), so a million subscribers cost
/// about 150 MB and no object per person.
public struct Population: Sendable {
    public let count: Int
    let imsi: [UInt64]
    let msisdn: [UInt64]
    let imei: [UInt64]
    let homeSite: [Int32]
    /// -1 when the subscriber does not commute.
    let workSite: [Int32]
    let otherSite: [Int32]
    /// A multiplier of the average rates: log-normal with mean 1.
    let activity: [Float]
    /// The sector each subscriber usually takes at a site (0 to 2).
    let sectorBias: [UInt8]
    /// Contacts of subscriber `s`: `contacts[contactStart[s]..<contactStart[s + 1]]`.
    let contactStart: [Int32]
    let contacts: [Int32]

    /// Handset models (TACs) of ordinary phones.
    static let phoneTACs: [Int] = [
        35_332_011, 35_391_110, 35_467_911, 35_528_610, 35_666_909, 35_875_511, 35_904_311,
        86_016_304,
        86_101_704, 86_153_505, 86_250_304, 86_476_104, 86_582_505, 86_690_205, 86_720_604,
        86_809_006,
        86_888_805, 86_966_405, 35_210_311, 35_302_911, 86_120_205, 86_413_906, 86_539_205,
        35_744_512,
    ]

    public init(count: Int, city: City, seed: UInt64) {
        var random = SimulationRandom(seed: seed, stream: 1)
        self.count = count
        let siteCount = city.sites.count
        var imsi = [UInt64](repeating: 0, count: count)
        var msisdn = imsi
        var imei = imsi
        var home = [Int32](repeating: 0, count: count)
        var work = home
        var other = home
        var activity = [Float](repeating: 1, count: count)
        var bias = [UInt8](repeating: 0, count: count)
        var contactStart = [Int32](repeating: 0, count: count + 1)
        var contacts: [Int32] = []
        contacts.reserveCapacity(count * 14)
        for index in 0..<count {
            imsi[index] = Identity.imsi(index)
            msisdn[index] = Identity.msisdn(index)
            imei[index] = Identity.imei(
                tac: Self.phoneTACs[random.int(0..<Self.phoneTACs.count)],
                serial: random.int(0..<1_000_000))
            home[index] = Int32(random.int(0..<siteCount))
            work[index] = random.chance(0.6) ? Int32(random.int(0..<siteCount)) : -1
            other[index] = Int32(random.int(0..<siteCount))
            // Median e^(−σ²/2) makes the mean exactly 1, so the daily rates are averages.
            activity[index] = Float(random.logNormal(median: 0.835_270_211, sigma: 0.6))
            bias[index] = UInt8(random.int(0..<3))
            let contactCount = 6 + random.int(0..<18)
            for _ in 0..<contactCount {
                contacts.append(Int32(random.int(0..<count)))
            }
            contactStart[index + 1] = Int32(contacts.count)
        }
        self.imsi = imsi
        self.msisdn = msisdn
        self.imei = imei
        homeSite = home
        workSite = work
        otherSite = other
        self.activity = activity
        sectorBias = bias
        self.contactStart = contactStart
        self.contacts = contacts
    }

    /// The site where subscriber `index` is at `localHour` (0 to 23).
    func site(of index: Int, localHour: Int, random: inout SimulationRandom) -> Int {
        switch localHour {
        case 8..<18 where workSite[index] >= 0: return Int(workSite[index])
        case 18..<22 where random.chance(0.35): return Int(otherSite[index])
        default: return Int(homeSite[index])
        }
    }

    /// A contact of subscriber `index`.
    func contact(of index: Int, random: inout SimulationRandom) -> Int {
        let start = Int(contactStart[index])
        let end = Int(contactStart[index + 1])
        return Int(contacts[start + random.int(0..<(end - start))])
    }
}

/// Identifiers of simulated SIMs and handsets, distinct by construction.
enum Identity {
    /// Ordinary subscribers: IMSI `46000` + ten digits, a bijection of the index (the
    /// multiplier is odd and not a multiple of 5, so it permutes the residues mod 10¹⁰).
    static func imsi(_ index: Int) -> UInt64 {
        PackedNumber.pack(
            460_00 * 10_000_000_000 + UInt64(index) &* 2_654_435_761 % 10_000_000_000, digits: 15)
    }

    /// `86` + `13`…`19` + nine digits, a bijection of the index.
    static func msisdn(_ index: Int) -> UInt64 {
        PackedNumber.pack(
            8_613_000_000_000 + UInt64(index) &* 7 % 1_000_000_000 + UInt64(index / 1_000_000_000)
                * 1_000_000_000, digits: 13)
    }

    /// Devices outside the population (boxes, look-alikes) draw from a separate IMSI range:
    /// `46001` + ten digits.
    static func deviceIMSI(_ number: Int) -> UInt64 {
        PackedNumber.pack(
            460_01 * 10_000_000_000 + UInt64(number) &* 2_654_435_761 % 10_000_000_000, digits: 15)
    }

    static func deviceMSISDN(_ number: Int) -> UInt64 {
        PackedNumber.pack(8_617_000_000_000 + UInt64(number) &* 7 % 1_000_000_000, digits: 13)
    }

    static func imei(tac: Int, serial: Int) -> UInt64 {
        IMEI(tac: tac, serial: serial % 1_000_000).rawValue
    }

    /// A number outside the operator: `86` + `15`/`18` + nine digits.
    static func externalNumber(_ random: inout SimulationRandom) -> UInt64 {
        PackedNumber.pack(8_615_000_000_000 + random.next() % 4_000_000_000, digits: 13)
    }
}

/// Digits packed the way `CDRRecords` packs them: a leading 1, then exactly `digits` digits.
enum PackedNumber {
    static func pack(_ value: UInt64, digits: Int) -> UInt64 {
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        return scale + value % scale
    }
}
