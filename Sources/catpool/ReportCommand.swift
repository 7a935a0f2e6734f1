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

    @Argument(help: "Decision files (JSON lines) in order; '-' or none reads stdin.")
    var decisions: [String] = []

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let sources = decisions.isEmpty ? ["-"] : decisions
        if sources.contains("-"), isatty(0) == 1 {
            printError("report reads decisions from stdin, which is a terminal; name a file")
            throw ExitStatus.usage.exitCode
        }
        var cellTable: CellTable?
        if let cells {
            do {
                cellTable = try CellTable(bytes: try Preflight.read(cells, flag: "--cells"))
            } catch let error as CellTableError {
                printError("--cells \(cells) \(error)")
                throw ExitStatus.usage.exitCode
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
            let page = ReportPage(
                decisions: all, cells: cellTable, statistics: statistics, evidence: evidenceLines)
            let output = OutputFile(descriptor: 1, path: "stdout", capacity: 1 << 20)
            do {
                try output.write(Array(page.render().utf8))
                try output.flush()
            } catch .closed {
                return
            } catch {
                printError("\(error)")
                throw ExitStatus.ioError.exitCode
            }
        } catch let error as ReportError {
            printError("\(error)")
            throw ExitStatus.dataError.exitCode
        }
    }
}
