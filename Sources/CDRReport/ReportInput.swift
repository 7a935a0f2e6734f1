import Foundation

/// One decision of `catpool detect` (`docs/output.md`), as the report reads it back.
///
/// Fields a report can do without (`severity`, `lifetime`, `stats`, coordinates) are
/// optional, so the decisions of older versions still make a page.
public struct ReportDecision: Decodable, Sendable, Equatable {
    public var event: String
    public var clusterID: String
    public var location: String
    public var cells: [String]
    public var site: String?
    public var lat: Double?
    public var lon: Double?
    public var windowStart: String
    public var windowEnd: String
    public var detectedAt: String
    public var sims: [String]
    public var msisdns: [String]?
    public var imeis: [String]?
    public var devices: [Device]?
    public var stats: WindowStats?
    public var lifetime: Lifetime?
    public var score: Double
    public var severity: String?
    public var reasons: [Reason]?

    /// SIMs linked into one device (`devices[]`).
    public struct Device: Decodable, Sendable, Equatable {
        public var imeis: [String]
        public var sims: [String]
    }

    /// The window's measures (`stats`).
    public struct WindowStats: Decodable, Sendable, Equatable {
        public var callsOut: Int?
        public var callsIn: Int?
        public var callsBetweenSims: Int?
        public var distinctCallees: Int?
        public var meanDurationS: Double?
        public var answeredShare: Double?
        public var callsPerMinute: Double?
        public var meanConcurrentCalls: Double?

        enum CodingKeys: String, CodingKey {
            case callsOut = "calls_out"
            case callsIn = "calls_in"
            case callsBetweenSims = "calls_between_sims"
            case distinctCallees = "distinct_callees"
            case meanDurationS = "mean_duration_s"
            case answeredShare = "answered_share"
            case callsPerMinute = "calls_per_minute"
            case meanConcurrentCalls = "mean_concurrent_calls"
        }
    }

    /// The cluster's life so far (`lifetime`).
    public struct Lifetime: Decodable, Sendable, Equatable {
        public var firstSeen: String
        public var lastSeen: String
        public var callsOut: Int
        public var sims: Int
        public var peakSims: Int

        enum CodingKeys: String, CodingKey {
            case sims
            case firstSeen = "first_seen"
            case lastSeen = "last_seen"
            case callsOut = "calls_out"
            case peakSims = "peak_sims"
        }
    }

    /// A feature of the score against the profile value it is judged by (`reasons[]`).
    public struct Reason: Decodable, Sendable, Equatable {
        public var code: String
        public var value: Double
        public var threshold: Double
    }

    enum CodingKeys: String, CodingKey {
        case event, location, cells, site, lat, lon, sims, msisdns, imeis, devices, stats
        case lifetime, score, severity, reasons
        case clusterID = "cluster_id"
        case windowStart = "window_start"
        case windowEnd = "window_end"
        case detectedAt = "detected_at"
    }

    /// The SIMs the window held as candidates: the `sims` reason when given, else `sims`.
    public var activeSIMs: Int {
        if let reason = reasons?.first(where: { $0.code == "sims" }) { return Int(reason.value) }
        return sims.count
    }
}

/// One line of a `--evidence` file: a record of a cluster's SIM, with where it was read.
public struct EvidenceLine: Decodable, Sendable, Equatable {
    public var clusterID: String
    public var input: String
    public var line: Int
    public var text: String

    public init(clusterID: String, input: String, line: Int, text: String) {
        self.clusterID = clusterID
        self.input = input
        self.line = line
        self.text = text
    }

    enum CodingKeys: String, CodingKey {
        case input, line, text
        case clusterID = "cluster_id"
    }
}

/// What the report takes from a `--stats` file: the records read and each input's digest.
public struct ReportStatistics: Decodable, Sendable, Equatable {
    public var records: Int
    public var lines: Int?
    public var inputs: [Input]

    /// One input of the run (`inputs[]`).
    public struct Input: Decodable, Sendable, Equatable {
        public var name: String
        public var records: Int?
        public var sha256: String?
    }
}

/// A file given to `catpool report` that it cannot read as what it should be.
public enum ReportError: Error, Equatable, CustomStringConvertible {
    /// A line of a decisions or evidence file is not the JSON object it should be.
    case badLine(source: String, line: Int, reason: String)
    /// The statistics file (a detection run's `RunStatistics` JSON) is not a statistics
    /// object.
    case badStatistics(source: String, reason: String)

    public var description: String {
        switch self {
        case .badLine(let source, let line, let reason):
            return "\(source): line \(line): \(reason)"
        case .badStatistics(let source, let reason):
            return "\(source): not a statistics object: \(reason)"
        }
    }
}

extension ReportError {
    /// A decoding error in a few words, without Swift's coding-path noise.
    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _):
            return "missing key \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context),
            DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "unexpected value at \"\(path)\""
        case DecodingError.dataCorrupted:
            return "not JSON"
        default:
            return "not JSON"
        }
    }
}

/// Reads JSON lines (decisions or evidence): blank lines are skipped, anything else must be
/// an object of the type.
///
/// - Parameters:
///   - bytes: the file's contents.
///   - source: its name, for messages.
/// - Throws: `ReportError.badLine` naming the first line that is not one.
/// - Complexity: O(n) in the bytes.
public func readJSONLines<Value: Decodable>(
    _ type: Value.Type, from bytes: [UInt8], source: String
) throws(ReportError) -> [Value] {
    let decoder = JSONDecoder()
    var values: [Value] = []
    var lineNumber = 0
    for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        lineNumber += 1
        if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
        do {
            values.append(try decoder.decode(Value.self, from: Data(line)))
        } catch {
            throw .badLine(source: source, line: lineNumber, reason: ReportError.reason(error))
        }
    }
    return values
}

extension ReportStatistics {
    /// Reads a `--stats` object.
    ///
    /// - Throws: `ReportError.badStatistics` when it is not one.
    public init(bytes: [UInt8], source: String) throws(ReportError) {
        do {
            self = try JSONDecoder().decode(ReportStatistics.self, from: Data(bytes))
        } catch {
            throw .badStatistics(source: source, reason: ReportError.reason(error))
        }
    }
}
