import ArgumentParser
import Glibc

/// catpool: finds GOIP cat pools (SIM boxes) in call-detail records.
@main
struct CatPool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catpool",
        abstract: "Find GOIP cat pools (SIM boxes) in call-detail records.",
        discussion: """
            Reads CDR dumps (zstd, gzip or plain CSV with a header) from files or stdin, \
            writes JSON lines to stdout and diagnostics to stderr.

            \(ExitStatus.helpText)
            """,
        version: CatPoolVersion.current,
        subcommands: [
            DetectCommand.self, CheckCommand.self, SimulateCommand.self, ScoreCommand.self,
            ProfileCommand.self,
        ],
        defaultSubcommand: DetectCommand.self
    )
}

enum CatPoolVersion {
    static let current = "0.1.0"
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
              catpool check --stats - Fixtures/replay/sample/input.csv.zst
              zstd -dc day.csv.zst | catpool check --rejects bad.jsonl --max-reject-ratio 0.01

            \(ExitStatus.helpText)
            """
    )

    @OptionGroup var input: InputOptions

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let status = RunLoop(options: input, configuration: try input.pipelineConfiguration()).run()
        if status != .success { throw status.exitCode }
    }
}
