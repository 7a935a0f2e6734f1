import CDRInput
import CDRRecords
import CDRSimulation

/// The benchmark corpus: a city's dump in miniature, made deterministically.
///
/// CDR lines of about 127 bytes in the contract's default layout plus one ignored column,
/// spread evenly over one day from 2026-11-20T00:00:00Z; no file, no network.
public enum Corpus {
    /// Streams `records` lines (header first) to `sink` in batches of about 1 MiB.
    public static func write(records: Int, seed: UInt64 = 2026, _ sink: ([UInt8]) throws -> Void)
        rethrows
    {
        var random = SimulationRandom(seed: seed)
        let writer = CDRLineWriter(
            columns: CDRLineWriter.defaultColumns + [
                .extra(name: "switch", value: "MSC-SHANGHAI-07-A")
            ])
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 21)
        writer.writeHeader(into: &bytes)
        let types: [RecordType] = [.moc, .moc, .moc, .moc, .mtc, .mtc, .mtc, .smsMO, .smsMT, .data]
        var cellNames: [[UInt8]] = (0..<3000).map {
            Array("460-00-\(4500 + $0 % 200)-\(10_000 + $0)".utf8)
        }
        cellNames.shuffle(using: &random)
        for index in 0..<records {
            let subscriber = UInt64(random.next() % 1_000_000)
            let type = types[index % types.count]
            let record = CallRecord(
                eventTime: EventTime(
                    millisecondsSinceEpoch: 1_795_132_800_000 + Int64(index) * 86_400_000
                        / Int64(records)),
                type: type,
                imsi: IMSI(rawValue: 1_460_000_000_000_000 + subscriber)
                    ?? CallRecord.placeholder.imsi,
                imei: IMEI(
                    tac: 86_000_000 + Int(subscriber % 997), serial: Int(subscriber % 1_000_000)),
                msisdn: PhoneNumber(rawValue: 18_613_800_000_000 + subscriber),
                peer: type == .data
                    ? nil : PhoneNumber(rawValue: 18_613_900_000_000 + random.next() % 100_000_000),
                durationSeconds: type == .moc || type == .mtc ? Int32(random.next() % 600) : nil,
                cell: CellID(rawValue: 0))
            writer.write(
                record, cellName: cellNames[Int(subscriber) % cellNames.count], into: &bytes)
            if bytes.count >= 1 << 20 {
                try sink(bytes)
                bytes.removeAll(keepingCapacity: true)
            }
        }
        if !bytes.isEmpty { try sink(bytes) }
    }

    /// The whole corpus in memory, plain and as one zstd frame (level 3, zstd's default).
    public static func inMemory(records: Int) -> (plain: [UInt8], zstd: [UInt8]) {
        var plain: [UInt8] = []
        plain.reserveCapacity(records * 130)
        write(records: records) { plain.append(contentsOf: $0) }
        var compressed: [UInt8] = []
        do {
            let encoder = try ZstdStreamEncoder(level: 3)
            try plain.withUnsafeBytes {
                try encoder.compress($0) { compressed.append(contentsOf: $0) }
            }
            try encoder.finish { compressed.append(contentsOf: $0) }
        } catch {
            fatalError("cannot compress the benchmark corpus: \(error)")
        }
        return (plain, compressed)
    }
}
