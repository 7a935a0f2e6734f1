import CDRRecords

/// Writes a synthetic stretch of CDR traffic with its ground truth.
///
/// Work goes hour by hour: the population's records, every box's and every look-alike's
/// for that hour are gathered, shuffled by their arrival delay (at most `disorderSeconds`
/// late, carried into the next hour when they fall past its start), and written. Memory is
/// bounded by one hour of traffic. Each part of the simulation draws from its own random
/// stream, keyed by the seed, so the output depends only on the configuration.
public struct DaySimulator: Sendable {
    public struct Configuration: Sendable {
        public var seed: UInt64 = 1
        public var subscribers = 100_000
        /// The first instant simulated: 2026-11-19T16:00:00Z, midnight at +08:00.
        public var start = EventTime(secondsSinceEpoch: 1_795_104_000)
        public var hours = 24
        /// Offset of local time east of UTC: the diurnal rhythm follows local hours.
        public var localOffsetSeconds = 8 * 3600
        public var boxes = 12
        /// How many look-alikes of each kind, when `lookAlikesPer100k` is `nil`.
        public var lookAlikesPerKind = 1
        /// Look-alikes per 100,000 subscribers, by kind: a city's real mix (see
        /// `LookAlike.realisticDensity`); `nil` for `lookAlikesPerKind` of each kind.
        public var lookAlikesPer100k: [LookAlike.Kind: Double]? = nil
        /// Ordinary subscribers per site (at least 30 sites): 250 is a suburb, 50 to 100 a
        /// dense city centre.
        public var subscribersPerSite = 250
        /// The box kinds, assigned to boxes in turn.
        public var boxKinds = CatPoolBox.Kind.allCases
        /// The look-alike kinds present.
        public var lookAlikeKinds = LookAlike.Kind.allCases
        /// The most a record arrives after records that started later.
        public var disorderSeconds = 0
        /// The share of records that arrive late, each by up to `disorderSeconds` (the
        /// rest arrive in order).
        public var lateShare = 1.0
        /// The share of lines written broken.
        public var badLineRate = 0.0
        public var writer = CDRLineWriter()

        public init() {}
    }

    /// Ordinary traffic per subscriber per day, by type (about 25 records with the inbound
    /// side of calls between subscribers).
    static let dailyRates: [(RecordType, Double)] = [
        (.moc, 5), (.mtc, 1.5), (.smsMO, 3), (.smsMT, 2.5), (.data, 9),
    ]
    /// Activity by local hour, averaging 1.
    static let diurnal: [Double] = {
        let raw = [
            0.25, 0.12, 0.06, 0.05, 0.05, 0.1, 0.3, 0.7, 1.1, 1.3, 1.35, 1.3, 1.25, 1.2, 1.3, 1.35,
            1.35, 1.4,
            1.5, 1.6, 1.5, 1.2, 0.85, 0.5,
        ]
        let mean = raw.reduce(0, +) / Double(raw.count)
        return raw.map { $0 / mean }
    }()

    /// Box SIMs are numbered from 0, look-alikes' from here.
    static let firstLookAlikeSIM = 1_000_000

    public let configuration: Configuration
    public let city: City
    public let population: Population
    public private(set) var boxes: [CatPoolBox]
    public let lookAlikes: [LookAlike]
    /// Statistics of what was written.
    public private(set) var recordsWritten = 0
    public private(set) var badLines: [Int] = []

    public init(configuration: Configuration) {
        self.configuration = configuration
        city = City(
            siteCount: max(30, configuration.subscribers / max(1, configuration.subscribersPerSite))
        )
        population = Population(
            count: configuration.subscribers, city: city, seed: configuration.seed)
        let spanStart = configuration.start.millisecondsSinceEpoch
        let spanEnd = spanStart + Int64(configuration.hours) * 3_600_000
        var nextSIM = 0
        var boxes: [CatPoolBox] = []
        for number in 0..<configuration.boxes {
            let kind = configuration.boxKinds[number % configuration.boxKinds.count]
            let box = CatPoolBox(
                number: number + 1, kind: kind, city: city, spanStart: spanStart, spanEnd: spanEnd,
                firstSIM: nextSIM, seed: configuration.seed)
            nextSIM += box.imsis.count
            boxes.append(box)
        }
        self.boxes = boxes
        var lookAlikes: [LookAlike] = []
        // Look-alikes number their SIMs apart from the boxes', so the same city simulated
        // with and without boxes (a night before, then the day) has the same people in it.
        nextSIM = Self.firstLookAlikeSIM
        for kind in configuration.lookAlikeKinds {
            let count = configuration.lookAlikeCount(of: kind)
            for number in 1...max(1, count) where count > 0 {
                let lookAlike = LookAlike(
                    number: number, kind: kind, city: city, spanStart: spanStart, spanEnd: spanEnd,
                    firstSIM: nextSIM,
                    seed: configuration.seed, localOffsetSeconds: configuration.localOffsetSeconds)
                nextSIM += lookAlike.imsis.count
                lookAlikes.append(lookAlike)
            }
        }
        self.lookAlikes = lookAlikes
    }

    /// Writes the header and every line, handing bytes to `sink` about 1 MiB at a time.
    public mutating func run(_ sink: ([UInt8]) throws -> Void) throws {
        let writer = configuration.writer
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 21)
        writer.writeHeader(into: &bytes)
        var line = 1
        var dirt = SimulationRandom(seed: configuration.seed, stream: 77)
        var carried: [Pending] = []
        let start = configuration.start.millisecondsSinceEpoch
        for hour in 0..<configuration.hours {
            let hourStart = start + Int64(hour) * 3_600_000
            let hourEnd = hourStart + 3_600_000
            var records: [CallRecord] = []
            records.reserveCapacity(configuration.subscribers + 10_000)
            emitPopulation(hourStart: hourStart, into: &records)
            for index in boxes.indices {
                boxes[index].emit(
                    hourStart: hourStart, hourEnd: hourEnd, city: city, into: &records)
            }
            for lookAlike in lookAlikes {
                lookAlike.emit(hourStart: hourStart, hourEnd: hourEnd, city: city, into: &records)
            }
            // Arrival = event time + a delay; what arrives after this hour waits for the next.
            var pending = carried
            carried = []
            var delays = SimulationRandom(seed: configuration.seed, stream: 0xD15 ^ UInt64(hour))
            let disorder = Int64(configuration.disorderSeconds) * 1000
            for (order, record) in records.enumerated() {
                let isLate = disorder > 0 && delays.chance(configuration.lateShare)
                let delay = isLate ? Int64(delays.int(0..<Int(disorder + 1))) : 0
                pending.append(
                    Pending(
                        arrival: record.eventTime.millisecondsSinceEpoch + delay,
                        order: UInt32(order), hour: UInt32(hour), record: record))
            }
            pending.sort { ($0.arrival, $0.hour, $0.order) < ($1.arrival, $1.hour, $1.order) }
            let isLastHour = hour == configuration.hours - 1
            for item in pending {
                if !isLastHour && item.arrival >= hourEnd {
                    carried.append(item)
                    continue
                }
                line += 1
                if configuration.badLineRate > 0 && dirt.chance(configuration.badLineRate) {
                    writeBrokenLine(item.record, random: &dirt, into: &bytes)
                    badLines.append(line)
                } else {
                    writer.write(
                        item.record, cellName: city.cellNames[Int(item.record.cell.rawValue)],
                        into: &bytes)
                    recordsWritten += 1
                }
                if bytes.count >= 1 << 20 {
                    try sink(bytes)
                    bytes.removeAll(keepingCapacity: true)
                }
            }
        }
        if !bytes.isEmpty { try sink(bytes) }
    }

    private struct Pending {
        var arrival: Int64
        var order: UInt32
        var hour: UInt32
        var record: CallRecord
    }

    // MARK: - Ordinary traffic

    private func emitPopulation(hourStart: Int64, into records: inout [CallRecord]) {
        var random = SimulationRandom(
            seed: configuration.seed, stream: 0x9090 ^ UInt64(hourStart / 1000))
        let localHour = Int(
            ((hourStart / 1000 + Int64(configuration.localOffsetSeconds)) / 3600) % 24)
        let weights = Self.dailyRates.map(\.1)
        let perHour = weights.reduce(0, +) / 24 * Self.diurnal[(localHour + 24) % 24]
        for subscriber in 0..<population.count {
            let count = random.poisson(mean: perHour * Double(population.activity[subscriber]))
            guard count > 0 else { continue }
            let site = population.site(of: subscriber, localHour: localHour, random: &random)
            for _ in 0..<count {
                let time = hourStart + Int64(random.int(0..<3600)) * 1000
                let type = Self.dailyRates[random.weighted(weights)].0
                let sector =
                    random.chance(0.8) ? Int(population.sectorBias[subscriber]) : random.int(0..<3)
                let cell = city.cell(site: site, sector: sector)
                switch type {
                case .moc, .smsMO:
                    let isCall = type == .moc
                    let isInternal = random.chance(isCall ? 0.75 : 0.6)
                    let callee =
                        isInternal ? population.contact(of: subscriber, random: &random) : -1
                    let answered = random.chance(0.8)
                    let duration: Int32? =
                        isCall
                        ? (answered ? max(1, Int32(random.logNormal(median: 55, sigma: 1))) : 0)
                        : nil
                    let peer =
                        isInternal ? population.msisdn[callee] : Identity.externalNumber(&random)
                    records.append(
                        ordinary(subscriber, time, type, peer: peer, duration: duration, cell: cell)
                    )
                    if isInternal {
                        let calleeSite = population.site(
                            of: callee, localHour: localHour, random: &random)
                        let calleeCell = city.cell(
                            site: calleeSite, sector: Int(population.sectorBias[callee]))
                        records.append(
                            ordinary(
                                callee, time, isCall ? .mtc : .smsMT,
                                peer: population.msisdn[subscriber], duration: duration,
                                cell: calleeCell))
                    }
                case .mtc:
                    let duration: Int32 =
                        random.chance(0.8)
                        ? max(1, Int32(random.logNormal(median: 55, sigma: 1))) : 0
                    records.append(
                        ordinary(
                            subscriber, time, .mtc, peer: Identity.externalNumber(&random),
                            duration: duration, cell: cell))
                case .smsMT:
                    // Banks and services send from short codes.
                    let sender = PackedNumber.pack(UInt64(95_500 + random.int(0..<400)), digits: 5)
                    records.append(
                        ordinary(subscriber, time, .smsMT, peer: sender, duration: nil, cell: cell))
                case .data:
                    records.append(
                        ordinary(
                            subscriber, time, .data, peer: nil,
                            duration: Int32(random.logNormal(median: 240, sigma: 1.2)), cell: cell))
                }
            }
        }
    }

    private func ordinary(
        _ subscriber: Int, _ time: Int64, _ type: RecordType, peer: UInt64?, duration: Int32?,
        cell: CellID
    ) -> CallRecord {
        CallRecord(
            eventTime: EventTime(millisecondsSinceEpoch: time), type: type,
            imsi: IMSI(rawValue: population.imsi[subscriber]) ?? CallRecord.placeholder.imsi,
            imei: IMEI(rawValue14: population.imei[subscriber]),
            msisdn: PhoneNumber(rawValue: population.msisdn[subscriber]),
            peer: peer.map(PhoneNumber.init(rawValue:)), durationSeconds: duration, cell: cell)
    }

    // MARK: - Dirt

    /// Writes `record` broken in one of the ways real exports break.
    ///
    /// Every way changes the number of fields, so the line is unreadable whatever the column
    /// layout: the truth's list of bad lines is exactly what a reader must reject.
    private func writeBrokenLine(
        _ record: CallRecord, random: inout SimulationRandom, into bytes: inout [UInt8]
    ) {
        var line: [UInt8] = []
        let delimiter = configuration.writer.delimiter
        configuration.writer.write(
            record, cellName: city.cellNames[Int(record.cell.rawValue)], into: &line)
        let ending = configuration.writer.lineEnding
        line.removeLast(ending.count)
        let delimiters = line.indices.filter { line[$0] == delimiter }
        switch random.int(0..<4) {
        case 0:  // cut short in the middle of the line
            line.removeSubrange(delimiters[delimiters.count / 2]...)
        case 1:  // a field lost its delimiter
            line.remove(at: delimiters[random.int(0..<delimiters.count)])
        case 2:  // garbage in the digits, and a stray delimiter
            for index in line.indices.dropFirst(line.count / 2).prefix(4)
            where line[index] &- 0x30 < 10 {
                line[index] = 0x3F
            }
            line.append(delimiter)
        default:  // a field split in two
            line.insert(delimiter, at: delimiters[0] / 2)
        }
        bytes.append(contentsOf: line)
        bytes.append(contentsOf: ending)
    }
}

extension DaySimulator.Configuration {
    /// How many look-alikes of `kind` the city has: by density when one is set (rounded, so
    /// a small town may have none), else `lookAlikesPerKind`.
    public func lookAlikeCount(of kind: LookAlike.Kind) -> Int {
        guard let densities = lookAlikesPer100k else { return max(0, lookAlikesPerKind) }
        return Int((Double(subscribers) / 100_000 * (densities[kind] ?? 0)).rounded())
    }
}
