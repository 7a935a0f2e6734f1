import ArgumentParser
import Glibc

/// The exit statuses of catpool, from sysexits(3); the only place they are chosen.
///
/// | status | meaning |
/// | --- | --- |
/// | 0 | success, or stdout closed by the reader (`catpool … \| head`) |
/// | 1 | an unexpected internal failure |
/// | 64 | usage error: bad flags or arguments, stdin is a terminal, an output that is an input, a malformed profile, cell table or allow list |
/// | 65 | bad data: corrupt or truncated compressed input, an unusable header, more rejected lines than `--max-reject-ratio`, or a reject under `--strict` |
/// | 65 | … also: a `--state` file that is damaged or from another version (unless `--state-reset`) |
/// | 74 | I/O error: an input or a flag's file cannot be read, an output cannot be written (outputs are checked before reading) |
/// | 75 | temporary failure: another run holds the `--state` file's lock |
/// | 77 | permission refused: the `--pseudonymise` key file is readable by its group or others |
/// | 130 | stopped by SIGINT (Ctrl-C): decisions so far and the statistics written, the state file untouched |
/// | 143 | stopped by SIGTERM: the same |
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case usage = 64
    case dataError = 65
    case ioError = 74
    case temporaryFailure = 75
    case noPermission = 77
    case interrupted = 130
    case terminated = 143

    var exitCode: ExitCode { ExitCode(rawValue) }

    /// The table above, for `--help`.
    static let helpText = """
        Exit status: 0 success (also when stdout is closed early, as by `head`); 64 usage error \
        (also an output that is an input, a malformed --profile, --cells or --allow file); \
        65 bad data (corrupt or truncated compressed input, unusable header, too many rejected \
        lines, any under --strict, or an unusable --state file); 74 I/O error (an input or a \
        flag's file unreadable, an output unwritable: outputs are checked first); 75 another \
        run holds the --state file (STATE.lock); 77 the --pseudonymise key file is open to \
        its group or others (chmod 600 KEYFILE); 130 and 143 \
        stopped by SIGINT or SIGTERM (decisions so far and --stats written, --state left as \
        it was); 1 internal failure.
        """

    /// The status of a run that failed as `failure`, or succeeded (`nil`).
    init(_ failure: RunFailure?) {
        switch failure {
        case nil: self = .success
        case .usage: self = .usage
        case .badData: self = .dataError
        case .io: self = .ioError
        case .stateInUse: self = .temporaryFailure
        case .keyFileExposed: self = .noPermission
        case .signal(let number): self = number == SIGINT ? .interrupted : .terminated
        }
    }
}

/// How a command failed, as its steps report it after printing why; `ExitStatus(_:)` picks
/// the status (`CatPool.main` for a thrown one, `RunLoop` for a run of `detect` or `check`).
enum RunFailure: Error, Equatable {
    /// Stdin (or, for compressed output, stdout) is a terminal, an output is an input, the
    /// configuration is unusable, or a flag's file is malformed (a profile, cell table, allow
    /// list, or a key file that is not a regular file or not 32 bytes to 1 MiB), or an
    /// identifier given to `pseudonym` is not one.
    case usage
    /// The input cannot be read as CDRs (corrupt or truncated, an unusable header, a reject
    /// under `--strict`, too many rejects), or the `--state` file cannot be continued from;
    /// or the decisions, statistics or truth given to `report` or `score` cannot be read as
    /// such.
    case badData
    /// An input, output, state or flag's file cannot be read or written.
    case io
    /// Another run holds the `--state` file's lock.
    case stateInUse
    /// The `--pseudonymise` (or `--key`) file is readable by its group or others.
    case keyFileExposed
    /// SIGINT or SIGTERM stopped the run.
    case signal(Int32)
}
