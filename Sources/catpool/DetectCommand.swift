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
              zstd -dc day.csv.zst | catpool detect --profile Pipelines/profiles/sensitive.profile | jq .sims
              catpool detect --allow allow.txt --stats stats.json /data/cdr/2026-11-20/*.zst
              catpool detect --state /var/lib/catpool/state --metrics-file catpool.prom hour-*.zst

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
            "Write only decisions of this severity or above: low (all), medium or high. A cluster's lines start with the first at the level, which is an `updated` line when it rose to it.",
            valueName: "level"))
    var minSeverity = "low"

    @Option(
        name: .customLong("max-state-mb"),
        help: ArgumentHelp(
            "Cap on detector state in MiB; past it the least recently active SIMs are evicted, with a warning (a city's day needs about 250).",
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
        guard maxStateMB >= 16 else { throw ValidationError("--max-state-mb must be at least 16") }
        if stateReset, state == nil { throw ValidationError("--state-reset needs --state FILE") }
        guard ClusterDecision.Severity(name: minSeverity) != nil else {
            throw ValidationError("--min-severity takes low, medium or high, not '\(minSeverity)'")
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        var configuration = try input.pipelineConfiguration()
        var detection = try loadDetection(cells: cells, profile: profile, allow: allow)
        detection.limits = StateLimits(maxBytes: maxStateMB << 20)
        detection.runsOnOwnThread = true
        detection.minSeverity = ClusterDecision.Severity(name: minSeverity) ?? .low
        configuration.detection = detection
        let status = RunLoop(
            options: input, configuration: configuration, statePath: state,
            resetsUnusableState: stateReset
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

/// Reads the files detection depends on; a missing file is an I/O error (74), a malformed
/// one a usage error (64).
func loadDetection(cells: String?, profile: String?, allow: String?) throws
    -> PipelineConfiguration.Detection
{
    func contents(_ path: String) throws -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            printError("cannot read \(path): \(error.localizedDescription)")
            throw ExitStatus.ioError.exitCode
        }
    }
    var detection = PipelineConfiguration.Detection()
    do {
        if let profile {
            detection.profile = try DetectionProfile(
                text: String(decoding: try contents(profile), as: UTF8.self))
        }
        if let cells { detection.cellTable = try CellTable(bytes: try contents(cells)) }
        if let allow {
            detection.allowList = try AllowList(
                text: String(decoding: try contents(allow), as: UTF8.self))
        }
    } catch let error as ExitCode {
        throw error
    } catch {
        throw ValidationError("\(error)")
    }
    return detection
}
