import ArgumentParser
import CDRPipeline
import CDRRecords
import Foundation

/// The options every command that reads CDRs shares: where the input is and how to read it.
struct InputOptions: ParsableArguments {
    @Argument(
        help:
            "CDR files, read in order as one stream (zstd, gzip or plain, detected per file). None, or '-', reads stdin."
    )
    var files: [String] = []

    @Option(
        help: ArgumentHelp(
            "Field delimiter: ',', ';', '|' or 'tab'. Default: detected from each header.",
            valueName: "char"))
    var delimiter: String?

    @Option(
        help: ArgumentHelp(
            "Column names of header-less input, comma-separated (e.g. event_time,record_type,imsi,cell).",
            valueName: "names"))
    var columns: String?

    @Option(
        name: .customLong("map"),
        help: ArgumentHelp(
            "Read FIELD from the column named COLUMN (repeatable), e.g. --map imsi=served_imsi.",
            valueName: "field=column"))
    var renames: [String] = []

    @Option(
        name: .customLong("map-type"),
        help: ArgumentHelp(
            "Read the record_type VALUE as TYPE (MOC, MTC, SMS_MO, SMS_MT or DATA; repeatable), e.g. --map-type MO_CALL=MOC.",
            valueName: "value=type"))
    var typeRenames: [String] = []

    @Option(
        help: ArgumentHelp(
            "Zone of timestamps written without one, as an offset: +08:00, -0530, Z. Default: UTC.",
            valueName: "offset"))
    var timezone: String?

    @Option(help: ArgumentHelp("Reject lines longer than this many bytes.", valueName: "n"))
    var maxLineBytes = 64 * 1024

    @Option(
        help: ArgumentHelp(
            "Exit 65 when more than this share of data lines is rejected.", valueName: "ratio"))
    var maxRejectRatio = 0.05

    @Option(
        help: ArgumentHelp(
            "Write each rejected line as a JSON line to this file ('-' for stdout).",
            valueName: "file"))
    var rejects: String?

    @Option(
        help: ArgumentHelp(
            "Write run statistics as one JSON object to this file ('-' for stdout) at the end.",
            valueName: "file"))
    var stats: String?

    @Flag(help: "Stop with status 65 at the first rejected line.")
    var strict = false

    @Flag(
        name: .shortAndLong,
        help:
            "Print no summary line and no per-line reject descriptions on stderr; warnings about a run that read nothing usable, and fatal errors, still print."
    )
    var quiet = false

    @Option(
        help: ArgumentHelp(
            "Write Prometheus metrics (catpool_*) to this file at the end, atomically, for node_exporter's textfile collector.",
            valueName: "file"))
    var metricsFile: String?

    @Option(
        name: [.customLong("pseudonymise"), .customLong("pseudonymize")],
        help: ArgumentHelp(
            "Write every IMSI, MSISDN and IMEI as its pseudonym (HMAC-SHA256 keyed with this file, 12 bytes in hex) in decisions, --rejects and messages; the file must be 32 bytes or more, mode 600.",
            valueName: "keyfile"))
    var pseudonymise: String?

    @Flag(
        inversion: .prefixedNo,
        help:
            "A progress line on stderr, refreshed four times a second (default: when stderr is a terminal)."
    )
    var progress: Bool?

    /// The inputs to read: stdin when none are named.
    var inputs: [String] { files.isEmpty ? ["-"] : files }

    /// The pseudonymiser of `--pseudonymise`, `nil` without it; reads the key file.
    ///
    /// - Throws: after printing why, `RunFailure.usage` when the key file is also an input,
    ///   or what `KeyFile` throws when it refuses the file.
    func pseudonymiser() throws(RunFailure) -> Pseudonymiser? {
        guard let pseudonymise else { return nil }
        if let input = Preflight.sameFile(as: pseudonymise, among: inputs) {
            // Read as CDRs, the key would be quoted back in messages about its "header".
            printError("--pseudonymise \(pseudonymise) is also an input (\(input)); refusing")
            throw .usage
        }
        return try KeyFile.pseudonymiser(path: pseudonymise, flag: "--pseudonymise")
    }

    func validate() throws {
        _ = try pipelineConfiguration()
        guard (0...1).contains(maxRejectRatio) else {
            throw ValidationError("--max-reject-ratio must be between 0 and 1")
        }
    }

    /// Builds the pipeline's configuration, or says which flag is wrong.
    func pipelineConfiguration() throws -> PipelineConfiguration {
        var configuration = PipelineConfiguration()
        if let delimiter {
            guard let byte = Self.delimiterByte(delimiter) else {
                throw ValidationError(
                    "--delimiter must be ',', ';', '|' or 'tab', not '\(delimiter)'")
            }
            configuration.delimiter = byte
        }
        for rename in renames {
            let parts = rename.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty,
                let field = ColumnLayout.Field(name: parts[0])
            else {
                let names = ColumnLayout.Field.allCases.map(\.name).joined(separator: ", ")
                throw ValidationError(
                    "--map takes FIELD=COLUMN with FIELD one of \(names); got '\(rename)'")
            }
            configuration.renames[field] = parts[1]
        }
        for rename in typeRenames {
            let parts = rename.split(separator: "=", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let known = RecordType.allCases.map(\.description).joined(separator: ", ")
            guard parts.count == 2, !parts[0].isEmpty, let type = RecordType(name: parts[1]) else {
                throw ValidationError(
                    "--map-type takes VALUE=TYPE with TYPE one of \(known); got '\(rename)'")
            }
            guard RecordType(name: parts[0]) == nil else {
                throw ValidationError(
                    "--map-type \(rename): \(parts[0]) is already a record type (\(known))")
            }
            configuration.typeAliases.append((Array(parts[0].utf8), type))
        }
        if let columns {
            let names = columns.split(separator: ",", omittingEmptySubsequences: false).map(
                String.init)
            do {
                configuration.columnLayout = try ColumnLayout(
                    columnNames: names, delimiter: configuration.delimiter ?? 0x2C,
                    renames: configuration.renames)
            } catch {
                throw ValidationError("--columns: \(error.message)")
            }
        }
        if let timezone {
            guard let offset = Self.offsetSeconds(timezone) else {
                throw ValidationError(
                    "--timezone takes an offset such as +08:00, -0530 or Z, not '\(timezone)'")
            }
            configuration.timestamps = TimestampParser(naiveOffsetSeconds: offset)
        }
        guard maxLineBytes >= 64 else {
            throw ValidationError("--max-line-bytes must be at least 64")
        }
        configuration.maxLineBytes = maxLineBytes
        configuration.collectsRejects = rejects != nil
        configuration.isStrict = strict
        return configuration
    }

    /// The byte of a delimiter named on the command line: `,` `;` `|` or `tab`.
    static func delimiterByte(_ name: String) -> UInt8? {
        switch name {
        case ",": return 0x2C
        case ";": return 0x3B
        case "|": return 0x7C
        case "tab", "\t", "\\t": return 0x09
        default: return nil
        }
    }

    /// Reads `Z`, `UTC`, `±hh`, `±hhmm` or `±hh:mm`.
    static func offsetSeconds(_ text: String) -> Int? {
        if text == "Z" || text.uppercased() == "UTC" { return 0 }
        let scalars = Array(text.utf8)
        guard let sign = scalars.first, sign == 0x2B || sign == 0x2D else { return nil }
        let digits = scalars.dropFirst().filter { $0 != 0x3A }
        guard digits.count == 2 || digits.count == 4, digits.allSatisfy({ $0 &- 0x30 < 10 }) else {
            return nil
        }
        let values = digits.map { Int($0 - 0x30) }
        let hours = values[0] * 10 + values[1]
        let minutes = values.count == 4 ? values[2] * 10 + values[3] : 0
        guard hours <= 18, minutes < 60 else { return nil }
        return (sign == 0x2D ? -1 : 1) * (hours * 3600 + minutes * 60)
    }
}
