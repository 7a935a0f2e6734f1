import CDRRecords
import CDRSimulation
import Foundation

/// A generated CDR dump whose every deliberately broken line is known by number and reason.
///
/// Columns can be shuffled and padded with columns the reader must ignore; timestamps can
/// be written in any of the contract's forms; lines can end in `\r\n`.
public struct SyntheticDump {
    /// How `event_time` is written.
    public enum TimeForm: CaseIterable, Sendable {
        case isoUTC, isoOffset, isoFraction, spaceSeparated, compact, epochSeconds,
            epochMilliseconds
    }

    public struct Options {
        public var records = 1000
        public var badLines = 0
        public var seed: UInt64 = 1
        /// Column names in file order; names outside the contract are extra columns.
        public var columns = [
            "event_time", "record_type", "imsi", "imei", "msisdn", "peer", "duration_s", "cell",
        ]
        public var timeForm = TimeForm.isoUTC
        public var lineEnding = "\n"
        public var startSeconds: Int64 = 1_795_132_800  // 2026-11-20T00:00:00Z
        public var delimiter: Character = ","

        public init() {}
    }

    /// The whole file, header first.
    public var bytes: [UInt8]
    /// 1-based line number → why that line is broken.
    public var badLines: [Int: RejectReason]
    /// Good records written, by type.
    public var recordsByType: [RecordType: Int]
    /// Event times of the good records, in file order.
    public var eventTimes: [EventTime]

    public var goodRecords: Int { recordsByType.values.reduce(0, +) }

    public init(_ options: Options) {
        var random = SimulationRandom(seed: options.seed)
        let delimiter = String(options.delimiter)
        var text = options.columns.joined(separator: delimiter) + options.lineEnding
        var badLines: [Int: RejectReason] = [:]
        var recordsByType: [RecordType: Int] = [:]
        var eventTimes: [EventTime] = []
        let total = options.records + options.badLines
        var badPositions = Set<Int>()
        while badPositions.count < options.badLines {
            badPositions.insert(Int.random(in: 0..<total, using: &random))
        }
        let breakable: [RejectReason] = [
            .fieldCount, .missingField, .badTime, .badIMSI, .badIMEI, .badMSISDN, .badDuration,
            .badQuoting,
        ]
        for index in 0..<total {
            let lineNumber = index + 2
            let milliseconds =
                (options.startSeconds + Int64(index) * 3) * 1000 + Int64.random(
                    in: 0..<3, using: &random) * 250
            let type = RecordType.allCases.randomElement(using: &random) ?? .moc
            var fields: [String: String] = [
                "event_time": Self.format(milliseconds, options.timeForm),
                "record_type": type.description,
                "imsi": "46000" + Self.digits(10, &random),
                "imei": Bool.random(using: &random) ? "86753001" + Self.digits(7, &random) : "",
                "msisdn": "86138" + Self.digits(8, &random),
                "peer": type == .data ? "" : "86139" + Self.digits(8, &random),
                "duration_s": type == .moc || type == .mtc
                    ? String(Int.random(in: 0..<600, using: &random)) : "",
                "cell":
                    "460-00-\(Int.random(in: 4500..<4520, using: &random))-\(Int.random(in: 10000..<10100, using: &random))",
            ]
            var reason: RejectReason?
            if badPositions.contains(index) {
                let chosen = breakable.randomElement(using: &random) ?? .badTime
                reason = chosen
                switch chosen {
                case .missingField: fields["imsi"] = ""
                case .badTime: fields["event_time"] = "2026-13-45T99:00:00Z"
                case .badIMSI: fields["imsi"] = "46000X12"
                case .badIMEI: fields["imei"] = "12345"
                case .badMSISDN: fields["msisdn"] = "86-138-0000"
                case .badDuration: fields["duration_s"] = "-5"
                case .badQuoting: fields["cell"] = "\"460-00-1-2"
                default: break
                }
            }
            var values = options.columns.map {
                fields[$0] ?? "x\(Int.random(in: 0..<100, using: &random))"
            }
            if reason == .fieldCount { values.removeLast() }
            if reason == .badQuoting, let cellIndex = options.columns.firstIndex(of: "cell") {
                // The broken quote must not be followed by a closing one on the same line.
                values = values.map { $0.replacingOccurrences(of: "\"", with: "") }
                values[cellIndex] = "\"460-00-1-2"
            }
            text += values.joined(separator: delimiter) + options.lineEnding
            if let reason {
                badLines[lineNumber] = reason
            } else {
                recordsByType[type, default: 0] += 1
                let keepsFraction =
                    options.timeForm == .isoFraction || options.timeForm == .epochMilliseconds
                eventTimes.append(
                    EventTime(
                        millisecondsSinceEpoch: keepsFraction
                            ? milliseconds : milliseconds / 1000 * 1000))
            }
        }
        bytes = Array(text.utf8)
        self.badLines = badLines
        self.recordsByType = recordsByType
        self.eventTimes = eventTimes
    }

    /// `event_time` in the requested form; the offset form uses +08:00.
    public static func format(_ milliseconds: Int64, _ form: TimeForm) -> String {
        let utc = EventTime(millisecondsSinceEpoch: milliseconds).description
        let wholeUTC = EventTime(millisecondsSinceEpoch: milliseconds / 1000 * 1000).description
        let bare = String(wholeUTC.dropLast())  // YYYY-MM-DDThh:mm:ss
        switch form {
        case .isoUTC: return wholeUTC
        case .isoFraction: return utc
        case .isoOffset:
            let shifted = EventTime(
                millisecondsSinceEpoch: milliseconds / 1000 * 1000 + 8 * 3_600_000
            ).description
            return String(shifted.dropLast()) + "+08:00"
        case .spaceSeparated: return bare.replacingOccurrences(of: "T", with: " ")
        case .compact: return bare.filter { $0.isNumber }
        case .epochSeconds: return String(milliseconds / 1000)
        case .epochMilliseconds: return String(milliseconds)
        }
    }

    private static func digits(_ count: Int, _ random: inout SimulationRandom) -> String {
        String((0..<count).map { _ in Character(String(Int.random(in: 0..<10, using: &random))) })
    }
}
