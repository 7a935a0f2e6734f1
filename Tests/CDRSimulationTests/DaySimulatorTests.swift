import CDRPipeline
import CDRRecords
import CDRSimulation
import CDRTestSupport
import Foundation
import Testing

struct DaySimulatorTests {
    static func configuration(seed: UInt64 = 5, hours: Int = 6) -> DaySimulator.Configuration {
        var configuration = DaySimulator.Configuration()
        configuration.seed = seed
        configuration.subscribers = 3000
        configuration.hours = hours
        configuration.boxes = CatPoolBox.Kind.allCases.count
        return configuration
    }

    static func simulate(_ configuration: DaySimulator.Configuration) throws -> (
        bytes: [UInt8], simulator: DaySimulator
    ) {
        var simulator = DaySimulator(configuration: configuration)
        var bytes: [UInt8] = []
        try simulator.run { bytes.append(contentsOf: $0) }
        return (bytes, simulator)
    }

    /// Parses a simulated dump back into records (with cell names), as catpool reads it.
    static func records(_ bytes: [UInt8], offset: Int = 8 * 3600) throws -> [(CallRecord, String)] {
        let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        let header = String(decoding: lines[0].filter { $0 != 0x0D }, as: UTF8.self)
        var parser = CallRecordParser(
            layout: try ColumnLayout(header: header, delimiter: nil),
            timestamps: TimestampParser(naiveOffsetSeconds: offset))
        let cells = CellInterner()
        var result: [(CallRecord, String)] = []
        var record = CallRecord.placeholder
        for line in lines.dropFirst() where !line.isEmpty {
            let trimmed = Array(line.filter { $0 != 0x0D })
            if trimmed.withUnsafeBytes({ parser.parse($0, cells: cells, into: &record) }) == .record
            {
                result.append((record, cells.name(of: record.cell)))
            }
        }
        return result
    }

    @Test func sameSeedGivesTheSameBytesAndTruth() throws {
        let first = try Self.simulate(Self.configuration())
        let second = try Self.simulate(Self.configuration())
        #expect(first.bytes == second.bytes)
        #expect(first.simulator.truthJSON() == second.simulator.truthJSON())
        let other = try Self.simulate(Self.configuration(seed: 6))
        #expect(other.bytes != first.bytes)
    }

    @Test(arguments: [CDRLineWriter.TimeFormat.iso8601, .compact, .epochMilliseconds])
    func truthListsExactlyTheLinesTheReaderRejects(format: CDRLineWriter.TimeFormat) throws {
        var configuration = Self.configuration(hours: 3)
        configuration.badLineRate = 0.01
        configuration.disorderSeconds = 300
        var random = SimulationRandom(seed: 3)
        var columns = CDRLineWriter.defaultColumns + [.extra(name: "switch", value: "MSC-1")]
        columns.shuffle(using: &random)
        configuration.writer = CDRLineWriter(
            columns: columns, timeFormat: format, localOffsetSeconds: 8 * 3600, delimiter: 0x3B,
            crlf: true)
        let (bytes, simulator) = try Self.simulate(configuration)

        var pipelineConfiguration = PipelineConfiguration()
        pipelineConfiguration.collectsRejects = true
        pipelineConfiguration.timestamps = TimestampParser(naiveOffsetSeconds: 8 * 3600)
        var pipeline = try Pipeline(configuration: pipelineConfiguration)
        var output = PipelineOutput()
        try pipeline.feed(.begin(name: "sim"), into: &output)
        try bytes.withUnsafeBytes { try pipeline.feed(.bytes($0), into: &output) }
        try pipeline.feed(
            .end(
                bytesIn: bytes.count, format: .plain, isCutShort: false), into: &output)
        let rejected = try String(decoding: output.rejects, as: UTF8.self).split(separator: "\n")
            .map { line in
                try #require(
                    (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?[
                        "line"] as? Int)
            }
        #expect(!simulator.badLines.isEmpty)
        #expect(rejected == simulator.badLines)
        #expect(pipeline.statistics.records == simulator.recordsWritten)
    }

    @Test func recordsArriveAtMostTheDisorderLate() throws {
        var configuration = Self.configuration(hours: 3)
        configuration.disorderSeconds = 120
        let records = try Self.records(try Self.simulate(configuration).bytes)
        var latest: Int64 = 0
        var wasLate = false
        for (record, _) in records {
            let time = record.eventTime.millisecondsSinceEpoch
            #expect(latest - time <= 120_000)
            wasLate = wasLate || time < latest
            latest = max(latest, time)
        }
        #expect(wasLate, "with disorder some records must arrive out of order")
    }

    @Test func eachBoxKindShowsItsSignature() throws {
        let (bytes, simulator) = try Self.simulate(Self.configuration(hours: 24))
        let records = try Self.records(bytes)
        for box in simulator.boxes {
            let sims = Set(box.imsis.compactMap { IMSI(rawValue: $0) })
            let mine = records.filter { sims.contains($0.0.imsi) }
            let calls = mine.filter { $0.0.type == .moc }
            #expect(calls.count > 50 * box.channels, "\(box.id) places calls non-stop")
            let imeis = Set(calls.compactMap { $0.0.imei })
            let cells = Set(calls.map(\.1))
            let inbound = mine.filter { $0.0.type == .mtc }.count
            switch box.kind {
            case .sharedIMEI: #expect(imeis.count == 1)
            case .randomIMEI: #expect(imeis.count > box.channels * 4)
            case .simBank:
                #expect(imeis.count == box.channels)
                #expect(Set(calls.map { $0.0.imsi }).count == box.imsis.count)
            case .sectors: #expect(cells.count == 3)
            case .mobile: #expect(cells.count > 5)
            case .interCalling: #expect(inbound > 0 && mine.contains { $0.0.type == .smsMO })
            case .humanised:
                #expect(cells.count == 3 && inbound > 0 && Set(imeis.map(\.tac)).count == 1)
                // Shifts: no channel calls for the whole span; each rests a third of it.
                let firstSIM = calls.filter { $0.0.imsi == IMSI(rawValue: box.imsis[0]) }
                let minutes = Set(firstSIM.map { $0.0.eventTime.millisecondsSinceEpoch / 60_000 })
                #expect(
                    Double(minutes.count) < 0.75
                        * Double(box.endMilliseconds - box.startMilliseconds) / 60_000)
            default:
                #expect(cells.count == 1)
                #expect(inbound == 0)
                #expect(Set(imeis.map(\.tac)).count == 1)
            }
            #expect(!mine.contains { $0.0.type == .data }, "\(box.id) never uses data")
        }
    }

    @Test func lookAlikesAreThereAndBehaveLegitimately() throws {
        let (bytes, simulator) = try Self.simulate(Self.configuration(hours: 24))
        let records = try Self.records(bytes)
        #expect(Set(simulator.lookAlikes.map(\.kind)) == Set(LookAlike.Kind.allCases))
        for lookAlike in simulator.lookAlikes {
            let sims = Set(lookAlike.imsis.compactMap { IMSI(rawValue: $0) })
            let mine = records.filter { sims.contains($0.0.imsi) }
            #expect(!mine.isEmpty, "\(lookAlike.id)")
            let data = mine.filter { $0.0.type == .data }.count
            let inbound = mine.filter { $0.0.type == .mtc }.count
            switch lookAlike.kind {
            case .m2mFarm: #expect(data > 10 * mine.filter { $0.0.type == .moc }.count)
            case .callCentre, .enterpriseGateway, .telemarketer: #expect(inbound > 0)
            case .dualSIM:
                var simsPerIMEI: [IMEI: Set<IMSI>] = [:]
                for (record, _) in mine {
                    if let imei = record.imei { simsPerIMEI[imei, default: []].insert(record.imsi) }
                }
                #expect(simsPerIMEI.values.allSatisfy { $0.count <= 2 })
                #expect(simsPerIMEI.values.contains { $0.count == 2 })
            case .transportHub: #expect(Set(mine.map(\.1)).count > 50, "travellers are mobile")
            }
        }
    }

    @Test func writesTheCellTableAndSitesForEveryCell() throws {
        let simulator = DaySimulator(configuration: Self.configuration(hours: 1))
        let table = String(decoding: simulator.city.cellTable(), as: UTF8.self).split(
            separator: "\n")
        #expect(table.first == "cell,site,lat,lon")
        #expect(table.count == simulator.city.cellCount + 1)
        #expect(table[1].split(separator: ",").count == 4)
    }
}
