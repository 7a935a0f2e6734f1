import ArgumentParser
import CDRInput
import CDRRecords
import CDRSimulation
import Glibc

/// `catpool simulate`: a synthetic day of CDRs with boxes, look-alikes and ground truth.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Write a synthetic day of CDRs with cat pools, look-alikes and ground truth.",
        discussion: """
            The population lives in a city of three-sector sites (one per 100 subscribers by \
            default, --subscribers-per-site) with homes, workplaces, contacts and a daily \
            rhythm in local time. Boxes of every kind (\(boxKindNames)) are assigned in turn; \
            look-alikes of every kind (\(lookAlikeKindNames)) come at a real city's density \
            by default (--look-alike-density, --look-alikes). A tenth of the records arrive up \
            to five minutes late (--late-share, --disorder-s). The same options and seed give \
            the same bytes on every machine.

            Examples:
              catpool simulate --subscribers 100000 --out day.csv.zst \\
                --truth truth.json --cells cells.csv
              catpool simulate --hours 2 --format csv --time-format compact \\
                --crlf --shuffle-columns | head
            """
    )

    /// The kinds as `--box-kinds` and `--look-alike-kinds` name them, for the help text.
    private static let boxKindNames = CatPoolBox.Kind.allCases.map(\.rawValue).joined(
        separator: ", ")
    private static let lookAlikeKindNames = LookAlike.Kind.allCases.map(\.rawValue).joined(
        separator: ", ")

    @Option(help: "Seed of the simulation.") var seed: UInt64 = 1
    @Option(help: "Ordinary subscribers.") var subscribers = 100_000
    @Option(help: "Hours to simulate.") var hours = 24
    @Option(
        help: ArgumentHelp(
            "First simulated instant, ISO 8601 (default: local midnight of 2026-11-20).",
            valueName: "time"))
    var start: String?
    @Option(
        help: ArgumentHelp(
            "Local time zone of the population, an offset such as +08:00.", valueName: "offset"))
    var timezone = "+08:00"
    @Option(help: "Cat pools (kinds are assigned in turn).") var boxes = 12
    @Option(
        help: ArgumentHelp(
            "Exactly this many look-alikes of each kind (default: a real city's mix by density).",
            valueName: "n"))
    var lookAlikes: Int?
    @Option(
        name: .customLong("look-alike-density"),
        help: ArgumentHelp(
            "Look-alikes of a kind per 100,000 subscribers (repeatable; defaults: \(LookAlike.realisticDensity.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\(formatDensity($0.value))" }.joined(separator: " "))).",
            valueName: "kind=n"))
    var lookAlikeDensities: [String] = []
    @Option(
        help: ArgumentHelp(
            "Ordinary subscribers per site: 50 to 100 is a dense city centre, 250 a suburb.",
            valueName: "n"))
    var subscribersPerSite = 100
    @Option(
        help: ArgumentHelp("Box kinds to use, comma-separated (default: all).", valueName: "kinds"))
    var boxKinds: String?
    @Option(
        help: ArgumentHelp(
            "Look-alike kinds to include, comma-separated (default: all; 'none' for none).",
            valueName: "kinds"))
    var lookAlikeKinds: String?
    @Option(
        name: .customLong("disorder-s"),
        help: "Late records arrive up to this many seconds out of order.")
    var disorderSeconds = 300
    @Option(help: "Share of records that arrive late (the rest arrive in order).")
    var lateShare = 0.1
    @Option(help: "Share of lines written broken (their numbers go to the truth).") var badRate =
        0.0
    @Option(help: ArgumentHelp("Output: zstd or csv.", valueName: "zstd|csv")) var format = "zstd"
    @Option(help: "zstd compression level.") var level: Int32 = 3
    @Option(help: ArgumentHelp("Write the CDRs here instead of stdout.", valueName: "file"))
    var out: String?
    @Option(help: ArgumentHelp("Write the ground truth (JSON) here.", valueName: "file")) var truth:
        String?
    @Option(help: ArgumentHelp("Write the cell table (cell,site,lat,lon) here.", valueName: "file"))
    var cells: String?
    @Option(
        help: ArgumentHelp(
            "event_time form: iso, iso-offset, space, compact, epoch, epoch-ms.", valueName: "form")
    )
    var timeFormat = "iso"
    @Flag(help: "Shuffle the column order (seeded).") var shuffleColumns = false
    @Option(help: "Add this many columns the reader must ignore.") var extraColumns = 0
    @Flag(help: "End lines with CRLF.") var crlf = false
    @Option(help: ArgumentHelp("Field delimiter: ',', ';', '|' or 'tab'.", valueName: "char"))
    var delimiter = ","

    func validate() throws {
        guard subscribers >= 100 else {
            throw ValidationError("--subscribers must be at least 100")
        }
        guard (1...24 * 31).contains(hours) else {
            throw ValidationError("--hours must be between 1 and 744")
        }
        guard (0...1).contains(lateShare) else {
            throw ValidationError("--late-share must be between 0 and 1")
        }
        guard (1...100_000).contains(subscribersPerSite) else {
            throw ValidationError("--subscribers-per-site must be between 1 and 100000")
        }
        guard (0...86_400).contains(disorderSeconds) else {
            throw ValidationError("--disorder-s must be between 0 and 86400")
        }
        guard (0...10_000).contains(lookAlikes ?? 0) else {
            throw ValidationError("--look-alikes must be between 0 and 10000")
        }
        guard (0...1).contains(badRate) else {
            throw ValidationError("--bad-rate must be between 0 and 1")
        }
        guard ["zstd", "csv"].contains(format) else {
            throw ValidationError("--format must be zstd or csv")
        }
        _ = try simulationConfiguration()
    }

    func simulationConfiguration() throws -> DaySimulator.Configuration {
        var configuration = DaySimulator.Configuration()
        configuration.seed = seed
        configuration.subscribers = subscribers
        configuration.hours = hours
        guard let offset = InputOptions.offsetSeconds(timezone) else {
            throw ValidationError("--timezone takes an offset such as +08:00, not '\(timezone)'")
        }
        configuration.localOffsetSeconds = offset
        if let start {
            var text = start
            var parser = TimestampParser()
            guard let time = text.withUTF8({ parser.parse(UnsafeRawBufferPointer($0)) })
            else {
                throw ValidationError(
                    "--start takes an ISO 8601 time such as 2026-11-20T00:00:00+08:00")
            }
            configuration.start = time
        } else {
            configuration.start = EventTime(secondsSinceEpoch: 1_795_132_800 - Int64(offset))
        }
        configuration.boxes = boxes
        configuration.subscribersPerSite = subscribersPerSite
        if let lookAlikes {
            guard lookAlikeDensities.isEmpty else {
                throw ValidationError("--look-alikes and --look-alike-density exclude each other")
            }
            configuration.lookAlikesPerKind = lookAlikes
        } else {
            var densities = LookAlike.realisticDensity
            for setting in lookAlikeDensities {
                let parts = setting.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let kind = LookAlike.Kind(rawValue: String(parts[0])),
                    let density = Double(parts[1]), density.isFinite, (0...1000).contains(density)
                else {
                    throw ValidationError(
                        "--look-alike-density takes KIND=N with N from 0 to 1000 per 100,000 subscribers, not '\(setting)'; kinds: \(LookAlike.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                densities[kind] = density
            }
            configuration.lookAlikesPer100k = densities
        }
        if let boxKinds {
            configuration.boxKinds = try boxKinds.split(separator: ",").map { name in
                guard let kind = CatPoolBox.Kind(rawValue: String(name)) else {
                    throw ValidationError(
                        "--box-kinds: unknown kind '\(name)'; kinds: \(CatPoolBox.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return kind
            }
            guard !configuration.boxKinds.isEmpty else {
                throw ValidationError("--box-kinds names no kind")
            }
        }
        if let lookAlikeKinds {
            configuration.lookAlikeKinds =
                try lookAlikeKinds == "none"
                ? []
                : lookAlikeKinds.split(separator: ",").map { name in
                    guard let kind = LookAlike.Kind(rawValue: String(name)) else {
                        throw ValidationError(
                            "--look-alike-kinds: unknown kind '\(name)'; kinds: \(LookAlike.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                        )
                    }
                    return kind
                }
        }
        configuration.disorderSeconds = disorderSeconds
        configuration.lateShare = lateShare
        configuration.badLineRate = badRate
        guard let form = CDRLineWriter.TimeFormat(rawValue: timeFormat) else {
            throw ValidationError(
                "--time-format must be one of \(CDRLineWriter.TimeFormat.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard let separator = InputOptions.delimiterByte(delimiter) else {
            throw ValidationError("--delimiter must be ',', ';', '|' or 'tab'")
        }
        var columns = CDRLineWriter.defaultColumns
        for index in 0..<max(0, extraColumns) {
            columns.append(.extra(name: "extra_\(index + 1)", value: "x\(index + 1)"))
        }
        if shuffleColumns {
            var random = SimulationRandom(seed: seed, stream: 0xC01)
            columns.shuffle(using: &random)
        }
        configuration.writer = CDRLineWriter(
            columns: columns, timeFormat: form, localOffsetSeconds: offset, delimiter: separator,
            crlf: crlf)
        return configuration
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        if out == nil, format == "zstd", isatty(1) == 1 {
            printError(
                "refusing to write compressed data to a terminal; use --out FILE or --format csv")
            throw RunFailure.usage
        }
        var simulator = DaySimulator(configuration: try simulationConfiguration())
        do {
            let output =
                try out.map { path throws(OutputFile.OutputError) in
                    try OutputFile(creating: path, capacity: 1 << 20)
                }
                ?? OutputFile(descriptor: 1, path: "stdout", capacity: 1 << 20)
            if format == "zstd" {
                let encoder = try ZstdStreamEncoder(level: level, workers: 1)
                let write = { (bytes: UnsafeRawBufferPointer) throws in
                    try output.write(Array(bytes))
                }
                try simulator.run { batch in
                    try batch.withUnsafeBytes { try encoder.compress($0, write) }
                }
                try encoder.finish(write)
            } else {
                try simulator.run { try output.write($0) }
            }
            try output.flush()
            if let truth {
                let file = try OutputFile(creating: truth)
                try file.write(simulator.truthJSON())
                try file.flush()
            }
            if let cells {
                let file = try OutputFile(creating: cells)
                try file.write(simulator.city.cellTable())
                try file.flush()
            }
        } catch OutputFile.OutputError.closed {
            return
        } catch {
            printError("\(error)")
            throw RunFailure.io
        }
    }
}

private func formatDensity(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}
