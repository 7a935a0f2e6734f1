import ArgumentParser
import Glibc

/// Checks made before the first input byte is read, so a common mistake gets an answer in
/// a second rather than after a night's dumps (#16).
enum Preflight {
    /// The subcommands, for "did you mean" (`detect` is the default and takes files, so a
    /// mistyped subcommand arrives as a file name).
    static let subcommands = [
        "detect", "check", "simulate", "score", "profile", "report", "pseudonym", "help",
    ]

    /// A usage error when `files` starts with a word that names no file but is a near miss
    /// of a subcommand: `catpool scor` → "did you mean 'score'?".
    static func checkForMistypedSubcommand(_ files: [String]) throws {
        guard let first = files.first, first != "-", !first.contains("/"),
            access(first, F_OK) != 0,
            let name = closest(to: first, among: subcommands)
        else { return }
        throw ValidationError(
            "'\(first)' is neither a file nor a subcommand; did you mean '\(name)'?")
    }

    /// The candidate within edit distance 2 of `word` (the nearest; the first on a tie).
    static func closest(to word: String, among candidates: [String]) -> String? {
        candidates.map { ($0, editDistance(word.lowercased(), $0)) }
            .filter { $0.1 <= 2 && $0.1 < $0.0.count }  // not a whole rewrite
            .min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance between `a` and `b`, by Unicode scalars.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(
                    previous[j] + 1, current[j - 1] + 1,
                    previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// The first of `paths` (`-` is stdin) that is the same file as `path`, if any.
    static func sameFile(as path: String, among paths: [String]) -> String? {
        var target = stat()
        guard stat(path, &target) == 0 else { return nil }
        return paths.first { other in
            var info = stat()
            let found = other == "-" ? fstat(0, &info) == 0 : stat(other, &info) == 0
            return found && info.st_dev == target.st_dev && info.st_ino == target.st_ino
        }
    }

    /// The bytes of a file named by `flag`.
    ///
    /// - Throws: `RunFailure.io` after a message naming `flag` and `path`.
    static func read(_ path: String, flag: String) throws(RunFailure) -> [UInt8] {
        do {
            if let bytes = try AtomicFile.read(path) { return bytes }
            printError("cannot read \(flag) \(path): \(String(cString: strerror(ENOENT)))")
        } catch {
            printError("cannot read \(flag) \(path): \(error.reason)")
        }
        throw .io
    }

    /// Checks every output path before anything is read: its folder exists and takes new
    /// files, it is not a folder itself, and it is not one of the inputs (which writing it
    /// would destroy).
    ///
    /// - Parameters:
    ///   - outputs: `(flag, path)` pairs; `-` (stdout) is skipped.
    ///   - inputs: the input paths, `-` for stdin.
    /// - Returns: why the run cannot start, after printing it (`.io`, or `.usage` for an
    ///   output that is an input), or `nil` when all is well.
    static func checkOutputs(_ outputs: [(flag: String, path: String)], inputs: [String])
        -> RunFailure?
    {
        var inputFiles: [(name: String, info: stat)] = []
        for input in inputs {
            var info = stat()
            let found = input == "-" ? fstat(0, &info) == 0 : stat(input, &info) == 0
            if found, info.st_mode & S_IFMT == S_IFREG {
                inputFiles.append((input == "-" ? "stdin" : input, info))
            }
        }
        for (flag, path) in outputs where path != "-" {
            var info = stat()
            if stat(path, &info) == 0 {
                if info.st_mode & S_IFMT == S_IFDIR {
                    printError("cannot write \(flag) \(path): it is a folder")
                    return .io
                }
                if let input = inputFiles.first(where: {
                    $0.info.st_dev == info.st_dev && $0.info.st_ino == info.st_ino
                }) {
                    printError(
                        "\(flag) \(path) is the input \(input.name): writing it would destroy "
                            + "what is being read; name another file")
                    return .usage
                }
                if flag == "--state", info.st_mode & S_IFMT != S_IFREG {
                    printError(
                        "--state \(path) is not a regular file: name a file to keep state in")
                    return .usage
                }
                if access(path, W_OK) != 0 {
                    printError("cannot write \(flag) \(path): \(String(cString: strerror(errno)))")
                    return .io
                }
                // --state and --metrics-file replace a regular file through a temporary
                // file beside it, so its folder must take new files too.
                let isReplaced = flag == "--state" || flag == "--metrics-file"
                guard isReplaced, info.st_mode & S_IFMT == S_IFREG else { continue }
            } else if errno != ENOENT {
                printError("cannot write \(flag) \(path): \(String(cString: strerror(errno)))")
                return .io
            }
            let folder = folder(of: path)
            var folderInfo = stat()
            if stat(folder, &folderInfo) != 0 {
                let reason =
                    errno == ENOENT
                    ? "folder \(folder) does not exist" : String(cString: strerror(errno))
                printError("cannot write \(flag) \(path): \(reason)")
                return .io
            }
            if folderInfo.st_mode & S_IFMT != S_IFDIR {
                printError("cannot write \(flag) \(path): \(folder) is not a folder")
                return .io
            }
            if access(folder, W_OK | X_OK) != 0 {
                printError(
                    "cannot write \(flag) \(path): cannot create files in \(folder): "
                        + String(cString: strerror(errno)))
                return .io
            }
        }
        return nil
    }

    /// The folder part of `path`: `.` for a bare name, `/` for a file at the root.
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    /// Whether `path` is a device, FIFO or socket: written in place, never replaced (#13).
    static func isSpecialFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }
}
