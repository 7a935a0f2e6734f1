import ArgumentParser
import CDRPipeline
import CDRReport
import Foundation

/// `catpool report`: one self-contained HTML page about the clusters of a run.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one offline HTML page about detected clusters: summary, map, cards.",
        discussion: """
            Reads the decisions of `catpool detect` (JSON lines; stdin when no file or '-' \
            is given) and writes one HTML page to stdout: a summary (clusters by severity \
            and by hour, time span, records read with --stats), an SVG map of the flagged \
            sites (--cells draws the city's cells behind them; moving clusters are paths), \
            and a card per cluster (score, severity, reasons against thresholds, SIMs in \
            devices, a timeline, lifetime), linked to its evidence lines with --evidence. \
            The page loads nothing from anywhere: no script, font, style sheet or tile.

            Examples:
              catpool detect --cells cells.csv --stats stats.json day.zst > clusters.jsonl
              catpool report --cells cells.csv --stats stats.json clusters.jsonl > report.html
              catpool detect day.zst | catpool report > report.html

            \(ExitStatus.helpText)
            """
    )

    @Option(
        help: ArgumentHelp(
            "The cell table (cell,site,lat,lon): the map's background and sites' places.",
            valueName: "file"))
    var cells: String?

    @Option(
        help: ArgumentHelp(
            "Evidence lines (JSON lines of cluster_id, input, line, text) to link from the cards.",
            valueName: "file"))
    var evidence: String?

    @Option(
        help: ArgumentHelp(
            "The detection run's --stats object: records read and the inputs' sha256.",
            valueName: "file"))
    var stats: String?

    @Option(
        name: [.customLong("pseudonymise"), .customLong("pseudonymize")],
        help: ArgumentHelp(
            "Show every IMSI, MSISDN and IMEI as its pseudonym (as detect --pseudonymise writes it), and every run of 6 or more digits in evidence lines too; a key file of 32 bytes or more, mode 600.",
            valueName: "keyfile"))
    var pseudonymise: String?

    @Argument(help: "Decision files (JSON lines) in order; '-' or none reads stdin.")
    var decisions: [String] = []

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let sources = decisions.isEmpty ? ["-"] : decisions
        if sources.contains("-"), isatty(0) == 1 {
            printError("report reads decisions from stdin, which is a terminal; name a file")
            throw RunFailure.usage
        }
        let pseudonymiser = try pseudonymise.map {
            try KeyFile.pseudonymiser(path: $0, flag: "--pseudonymise")
        }
        var cellTable: CellTable?
        if let cells {
            do {
                cellTable = try CellTable(bytes: try Preflight.read(cells, flag: "--cells"))
            } catch let error as CellTableError {
                printError("--cells \(cells) \(error)")
                throw RunFailure.usage
            }
        }
        do {
            var all: [ReportDecision] = []
            for source in sources {
                let bytes =
                    source == "-"
                    ? Array(FileHandle.standardInput.readDataToEndOfFile())
                    : try Preflight.read(source, flag: "decisions")
                all += try readJSONLines(
                    ReportDecision.self, from: bytes, source: source == "-" ? "stdin" : source)
            }
            let statistics = try stats.map {
                try ReportStatistics(bytes: try Preflight.read($0, flag: "--stats"), source: $0)
            }
            let evidenceLines = try evidence.map {
                try readJSONLines(
                    EvidenceLine.self, from: try Preflight.read($0, flag: "--evidence"), source: $0)
            }
            if let pseudonymiser {
                all = all.map { $0.pseudonymised(by: pseudonymiser) }
            }
            let shownEvidence = evidenceLines.map { lines in
                pseudonymiser.map { pseudonymiser in
                    lines.map {
                        EvidenceLine(
                            clusterID: $0.clusterID, input: $0.input, line: $0.line,
                            text: pseudonymiser.redactingDigitRuns($0.text))
                    }
                } ?? lines
            }
            let page = ReportPage(
                decisions: all, cells: cellTable, statistics: statistics, evidence: shownEvidence)
            let output = OutputFile(descriptor: 1, path: "stdout", capacity: 1 << 20)
            do {
                try output.write(Array(page.render().utf8))
                try output.flush()
            } catch .closed {
                return
            } catch {
                printError("\(error)")
                throw RunFailure.io
            }
        } catch let error as ReportError {
            printError(error.message)
            throw RunFailure.badData
        }
    }
}

extension ReportDecision {
    /// The decision with each identifier (a run of digits) as its pseudonym, lists sorted by
    /// pseudonym so their order tells nothing; what is not digits (already pseudonymised
    /// output) is kept as it is.
    func pseudonymised(by pseudonymiser: Pseudonymiser) -> ReportDecision {
        func map(_ identifiers: [String]) -> [String] {
            identifiers.map {
                !$0.isEmpty && $0.utf8.allSatisfy({ $0 &- 0x30 < 10 })
                    ? pseudonymiser.pseudonym(of: $0) : $0
            }.sorted()
        }
        var decision = self
        decision.sims = map(sims)
        decision.msisdns = msisdns.map(map)
        decision.imeis = imeis.map(map)
        decision.devices = devices?.map { device in
            var device = device
            device.imeis = map(device.imeis)
            device.sims = map(device.sims)
            return device
        }
        return decision
    }
}

extension ReportError {
    /// The error in words, for stderr; a statistics file is named by its flag, `--stats`.
    var message: String {
        guard case .badStatistics(let source, let reason) = self else { return description }
        return "\(source): not a --stats object: \(reason)"
    }
}
