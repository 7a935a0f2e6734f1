import ArgumentParser
import CDRPipeline
import Foundation
import Glibc
import SIMBoxDetection

/// `catpool detect`, the main job: flags cat pools in CDR dumps as JSON lines.
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Flag cat pools (SIM boxes) in CDR dumps, one JSON line per decision.",
        discussion: """
            Reads CDRs as `catpool check` does and writes a JSON line to stdout, flushed at \
            once, whenever a device cluster is flagged, updated (more SIMs or devices, or \
            moved) or closed (silent for a window). docs/output.md describes the format and \
            docs/detection.md how clusters are found and scored.

            Examples:
              catpool detect --cells cells.csv day.csv.zst > clusters.jsonl
              catpool detect --cells cells.csv --min-severity high day.csv.zst
              zstd -dc day.csv.zst \\
                | catpool detect --profile Pipelines/profiles/sensitive.profile \\
                | jq .sims
              catpool detect --allow allow.txt --stats stats.json \\
                /data/cdr/2026-11-20/*.zst
              catpool detect --state /var/lib/catpool/state \\
                --metrics-file catpool.prom hour-*.zst

            \(ExitStatus.helpText)
            """
    )

    @OptionGroup var input: InputOptions

    @Option(
        help: ArgumentHelp(
            "Cell table (cell,site,lat,lon): locations become sites.", valueName: "file"))
    var cells: String?

    @Option(
        help: ArgumentHelp(
            "Detection profile (NAME = VALUE lines; see `catpool profile`).", valueName: "file"))
    var profile: String?

    @Option(
        help: ArgumentHelp(
            "IMSIs, MSISDN prefixes and cells never to flag (`imsi …`, `msisdn …`, `cell …` lines).",
            valueName: "file"))
    var allow: String?

    @Option(
        help: ArgumentHelp(
            "Write evidence lines here: each record of each cluster's SIMs, with its input and line number (JSON lines; docs/output.md).",
            valueName: "file"))
    var evidence: String?

    @Option(
        help: ArgumentHelp(
            "Write only decisions of this severity or above: low (all), medium or high. A cluster's lines start with the first at the level, which is an `updated` line when it rose to it.",
            valueName: "level"))
    var minSeverity = "low"

    @Option(
        name: .customLong("max-state-mb"),
        help: ArgumentHelp(
            "Cap on detector state in MiB; past it the least recently active SIMs are evicted, with a warning (a dense city's day of a million SIMs peaks at about 200 MB resident).",
            valueName: "MiB"))
    var maxStateMB = StateLimits.standard.maxBytes >> 20

    @Option(
        help: ArgumentHelp(
            "Continue the windows, histories and cluster ids saved here by the previous run, and save them here at a successful end (atomically). A missing file starts afresh.",
            valueName: "file"))
    var state: String?

    @Flag(
        help:
            "Start afresh when the --state file is damaged or from another version, instead of exiting 65."
    )
    var stateReset = false

    func validate() throws {
        try Preflight.checkForMistypedSubcommand(input.files)
        // The cap sizes reservations up front: past the machine's memory it can only fail
        // later (a 30 GB allocation abort), and shifted to bytes a huge one overflowed to 0
        // (#13 row 9).
        let limit = Self.maxStateMBLimit
        guard (16...limit).contains(maxStateMB) else {
            throw ValidationError(
                "--max-state-mb must be between 16 and \(limit) (this machine's memory, at most "
                    + "65536), not \(maxStateMB)")
        }
        if stateReset, state == nil { throw ValidationError("--state-reset needs --state FILE") }
        if evidence == "-" {
            throw ValidationError(
                "--evidence -: stdout carries the decisions; name a file for the evidence lines")
        }
        guard ClusterDecision.Severity(name: minSeverity) != nil else {
            throw ValidationError("--min-severity takes low, medium or high, not '\(minSeverity)'")
        }
    }

    /// The largest `--max-state-mb`: the physical memory in MiB, at most 64 GiB.
    static var maxStateMBLimit: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return 65536 }
        return min(65536, max(16, (pages * pageSize) >> 20))
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        var configuration = try input.pipelineConfiguration()
        configuration.pseudonymiser = try input.pseudonymiser()
        if configuration.pseudonymiser != nil, let evidence {
            printError(
                "warning: --evidence \(evidence) keeps its input lines verbatim, raw identifiers and all (the investigator's restricted case file); --pseudonymise covers the other outputs"
            )
        }
        var detection = try loadDetection(cells: cells, profile: profile, allow: allow)
        // The cell table is state too: it comes out of the cap, and may take half of it.
        let tableBytes = detection.cellTable.footprintBytes
        guard tableBytes <= (maxStateMB << 20) / 2 else {
            printError(
                "--cells \(cells ?? "") holds \(detection.cellTable.cellCount) cells, about \((tableBytes + (1 << 20) - 1) >> 20) MB: more than half of --max-state-mb \(maxStateMB); raise --max-state-mb"
            )
            throw RunFailure.usage
        }
        detection.limits = StateLimits(maxBytes: (maxStateMB << 20) - tableBytes)
        detection.minSeverity = ClusterDecision.Severity(name: minSeverity) ?? .low
        detection.collectsEvidence = evidence != nil
        configuration.detection = detection
        let status = RunLoop(
            options: input, configuration: configuration, statePath: state,
            resetsUnusableState: stateReset, evidencePath: evidence
        ).run()
        if status != .success { throw status.exitCode }
    }
}

/// `catpool profile`: prints the effective detection profile.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Print the effective detection profile (itself a valid profile file).")

    @Option(help: ArgumentHelp("A profile file to apply over the built-in one.", valueName: "file"))
    var profile: String?

    func run() throws {
        let effective = try loadDetection(cells: nil, profile: profile, allow: nil).profile
        print(effective.text, terminator: "")
    }
}

/// Reads the files detection depends on; a missing file is an I/O error (`RunFailure.io`)
/// naming the flag and the path, a malformed one a usage error (`.usage`) naming the file,
/// the line and, for a misspelt name, the likely fix.
func loadDetection(cells: String?, profile: String?, allow: String?) throws
    -> PipelineConfiguration.Detection
{
    func text(_ path: String, _ flag: String) throws -> String {
        var text = String(decoding: try Preflight.read(path, flag: flag), as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        return text
    }
    func refuse(_ flag: String, _ path: String, _ message: String) -> RunFailure {
        printError("\(flag) \(path) \(message)")
        return .usage
    }
    var detection = PipelineConfiguration.Detection()
    if let profile {
        let contents = try text(profile, "--profile")
        do {
            detection.profile = try DetectionProfile(text: contents)
        } catch {
            let known = DetectionProfile.standard.text.split(separator: "\n").compactMap {
                $0.split(separator: " ").first.map(String.init)
            }
            let hint = misspeltName(line: error.line, of: contents, among: known) {
                $0.split(separator: "=").first
            }
            throw refuse("--profile", profile, "\(error)\(hint)")
        }
        if let problem = ProfileRanges.problem(in: contents) {
            throw refuse("--profile", profile, "line \(problem.line): \(problem.message)")
        }
    }
    if let cells {
        do {
            detection.cellTable = try CellTable(bytes: try Preflight.read(cells, flag: "--cells"))
        } catch let error as CellTableError {
            throw refuse("--cells", cells, "\(error)")
        }
    }
    if let allow {
        let contents = try text(allow, "--allow")
        do {
            detection.allowList = try AllowList(text: contents)
        } catch {
            let hint = misspeltName(
                line: error.line, of: contents, among: ["imsi", "msisdn", "cell"]
            ) { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).first }
            throw refuse("--allow", allow, "\(error)\(hint)")
        }
    }
    return detection
}

/// "; did you mean NAME?" when the name on line `line` of `text` (found by `name`) is a
/// near miss of one of `known`, else "".
private func misspeltName(
    line: Int, of text: String, among known: [String],
    name: (Substring) -> Substring?
) -> String {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard line >= 1, line <= lines.count,
        let written = name(lines[line - 1]).map({ $0.trimmingCharacters(in: .whitespaces) }),
        !known.contains(written),
        let suggestion = Preflight.closest(to: written, among: known)
    else { return "" }
    return "; did you mean \(suggestion)?"
}
