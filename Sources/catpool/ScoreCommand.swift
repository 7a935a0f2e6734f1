import ArgumentParser
import CDRSimulation
import Foundation

/// `catpool score`: how well detector output finds a simulation's boxes.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score detector output against a simulation's ground truth.",
        discussion: """
            Reads JSON lines of detector events (stdin by default) and the truth written by \
            `catpool simulate --truth`. A flagged cluster is a true positive when more than half \
            of its SIMs belong to one box. Prints a table per box kind and per look-alike kind, \
            and ends with the line
              precision=P recall=R sim_recall=S delay_p50_min=D fp=N

            Example:
              catpool simulate --out day.zst --truth truth.json --cells cells.csv
              catpool detect --cells cells.csv day.zst | catpool score --truth truth.json
            """
    )

    @Option(
        help: ArgumentHelp("The ground truth from `catpool simulate --truth`.", valueName: "file"))
    var truth: String

    @Argument(help: "Detector output (JSON lines); '-' or none reads stdin.")
    var output: String?

    func run() throws {
        let truthBytes = try Preflight.read(truth, flag: "--truth")
        let outputBytes: [UInt8]
        if let output, output != "-" {
            outputBytes = try Preflight.read(output, flag: "detector output")
        } else {
            outputBytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        }
        let score: DetectionScore
        do {
            score = try DetectionScore(truth: truthBytes, output: outputBytes)
        } catch {
            printError("\(error)")
            throw RunFailure.badData
        }
        for warning in score.warnings.prefix(10) { printError(warning) }
        print(score.report(), terminator: "")
    }
}
