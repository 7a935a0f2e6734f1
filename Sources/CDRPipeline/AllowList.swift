import CDRRecords

/// SIMs, numbers and cells never to flag: known call centres, network probes, enterprise
/// gateways.
///
/// The file has one entry per line, `imsi DIGITS`, `msisdn PREFIX` or `cell TOKEN`; `#`
/// starts a comment. Records of an allowed IMSI, of an MSISDN starting with an allowed
/// prefix, or on an allowed cell are read and counted but never reach the detector.
public struct AllowList: Sendable {
    public private(set) var imsis: Set<UInt64> = []
    public private(set) var msisdnPrefixes: [String] = []
    public private(set) var cells: Set<String> = []

    public init() {}

    /// - Throws: `AllowListError` naming the line.
    public init(text: String) throws(AllowListError) {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let line =
                (raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                ?? "")
                .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if line.isEmpty { continue }
            guard line.count == 2 else {
                throw AllowListError(line: index + 1, reason: "expected KIND VALUE")
            }
            let value = String(line[1])
            switch line[0] {
            case "imsi":
                guard let imsi = IMSI(value) else {
                    throw AllowListError(line: index + 1, reason: "not an IMSI: \(value)")
                }
                imsis.insert(imsi.rawValue)
            case "msisdn":
                let digits = value.hasPrefix("+") ? String(value.dropFirst()) : value
                guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else {
                    throw AllowListError(line: index + 1, reason: "not a number prefix: \(value)")
                }
                msisdnPrefixes.append(digits)
            case "cell":
                cells.insert(value)
            default:
                throw AllowListError(
                    line: index + 1, reason: "the kind must be imsi, msisdn or cell, not \(line[0])"
                )
            }
        }
    }

    public var isEmpty: Bool { imsis.isEmpty && msisdnPrefixes.isEmpty && cells.isEmpty }

    func allowsNumber(_ number: PhoneNumber?) -> Bool {
        guard !msisdnPrefixes.isEmpty, let number else { return false }
        let digits = number.description
        return msisdnPrefixes.contains { digits.hasPrefix($0) }
    }
}

/// An allow list that cannot be read.
public struct AllowListError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}
