import ArgumentParser
import CSupport
import Glibc

/// catpool: finds GOIP cat pools (SIM boxes) in call-detail records.
@main
struct CatPool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catpool",
        abstract: "Find GOIP cat pools (SIM boxes) in call-detail records.",
        discussion: """
            Reads CDR dumps (zstd, gzip or plain CSV with a header) from files or stdin, \
            writes JSON lines to stdout and diagnostics to stderr. `detect` is the default \
            subcommand: `catpool day.zst` is `catpool detect day.zst`.

            Examples:
              catpool --cells cells.csv day.csv.zst > clusters.jsonl
              catpool detect --state /var/lib/catpool/state \\
                --metrics-file catpool.prom hour-*.zst
              tail -F feed.csv | catpool detect --cells cells.csv \\
                | jq -c 'select(.event == "flagged")'
              catpool check --stats - day.csv.zst
              catpool simulate --subscribers 100000 --out day.zst \\
                --truth truth.json --cells cells.csv

            Shell completions: catpool --generate-completion-script bash (or zsh, fish).

            \(ExitStatus.helpText)
            """,
        version: CatPoolVersion.current,
        subcommands: [
            DetectCommand.self, CheckCommand.self, SimulateCommand.self, ScoreCommand.self,
            ProfileCommand.self, ReportCommand.self, PseudonymCommand.self,
        ],
        defaultSubcommand: DetectCommand.self
    )

    /// Runs the command the arguments name, as `ParsableCommand.main()` does, except that a
    /// `RunFailure` (its reason already printed) exits with the status `ExitStatus(_:)` picks.
    static func main() {
        // Large blocks (a table that doubles, a decode buffer) come from mmap and go back to
        // the system when freed. glibc otherwise raises this threshold to the largest block
        // freed, so the tables' old halves, freed as they double, stay in the heap: 9 MB of
        // a dense city's peak (`docs/operations.md`).
        catpool_map_blocks_from(128 << 10)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as RunFailure {
            exit(withError: ExitStatus(failure).exitCode)
        } catch {
            exit(withError: error)
        }
    }
}

enum CatPoolVersion {
    static let current = "0.2.0"
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Read CDR dumps and report what parses: counts, time range, rejected lines.",
        discussion: """
            Runs the reading stage alone (decompress, split, parse), for validating a dump \
            before a detection run. Nothing is written to stdout unless --rejects - or \
            --stats - asks for it.

            Examples:
              catpool check --stats - Fixtures/replay/messy-export/input.csv.zst
              zstd -dc day.csv.zst \\
                | catpool check --rejects bad.jsonl --max-reject-ratio 0.01

            \(ExitStatus.helpText)
            """
    )

    @OptionGroup var input: InputOptions

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        var configuration = try input.pipelineConfiguration()
        configuration.pseudonymiser = try input.pseudonymiser()
        let status = RunLoop(options: input, configuration: configuration).run()
        if status != .success { throw status.exitCode }
    }
}
