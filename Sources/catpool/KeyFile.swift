import ArgumentParser
import CDRPipeline
import Glibc

/// Reads the key of `--pseudonymise` and `catpool pseudonym --key` (#14).
///
/// The key file must be a regular file that only its owner can read or write (mode 600 or
/// 400): anyone who can read it can link every pseudonym back, so a file the group or others
/// may read is refused (`RunFailure.keyFileExposed`, status 77) with the `chmod` that fixes it. The mode is checked on
/// the opened file (fstat), so it cannot change between the check and the read. Every byte
/// of the file is the key, a trailing newline included; fewer than 32 is a usage error
/// (`.usage`, 64). A missing or unreadable file is an I/O error (`.io`, 74). No message ever
/// quotes the key.
enum KeyFile {
    /// The pseudonymiser keyed with the file at `path`.
    ///
    /// - Throws: after a message naming `flag` and `path`, `RunFailure.io`, `.usage` or
    ///   `.keyFileExposed`, as above.
    static func pseudonymiser(path: String, flag: String) throws(RunFailure) -> Pseudonymiser {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            printError("cannot read \(flag) \(path): \(String(cString: strerror(errno)))")
            throw .io
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            printError("cannot read \(flag) \(path): \(String(cString: strerror(errno)))")
            throw .io
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            printError("\(flag) \(path) is not a regular file; the key must be one")
            throw .usage
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            printError(
                "\(flag) \(path) is open to \(mode & 0o070 != 0 ? "its group" : "others") "
                    + "(mode \(String(mode, radix: 8))): whoever reads the key can undo the "
                    + "pseudonyms; make it readable by its owner only: chmod 600 \(path)")
            throw .keyFileExposed
        }
        var key: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                printError("cannot read \(flag) \(path): \(String(cString: strerror(errno)))")
                throw .io
            }
            if count == 0 { break }
            key.append(contentsOf: buffer[..<count])
            // A key is short; a huge file was named by mistake (a dump, a device).
            guard key.count <= 1 << 20 else {
                printError("\(flag) \(path) is over 1 MiB: not a key file")
                throw .usage
            }
        }
        do {
            return try Pseudonymiser(key: key)
        } catch {
            printError("\(flag) \(path): \(error)")
            throw .usage
        }
    }
}

/// `catpool pseudonym`: the pseudonym of each identifier, for finding a known number in
/// shared output.
struct PseudonymCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pseudonym",
        abstract: "Print the pseudonym --pseudonymise writes for each identifier.",
        discussion: """
            Prints one line per identifier: the identifier, a tab, and its pseudonym (the \
            first 12 bytes of HMAC-SHA256 keyed with KEYFILE, in hex), as `detect \
            --pseudonymise KEYFILE` writes it. Write an identifier as catpool does without \
            the option: an IMSI's digits, an MSISDN without '+', an IMEI's 15 digits. With no \
            identifier, reads them from stdin, one per line.

            Examples:
              catpool pseudonym --key /etc/catpool/key 460011853229132 8617000000049
              catpool pseudonym --key /etc/catpool/key < numbers.txt | cut -f2

            Exit status: 0 success; 64 an identifier that is not 1 to 32 digits, or a key \
            under 32 bytes; 74 the key cannot be read; 77 the key file is readable by its \
            group or others (chmod 600 KEYFILE).
            """)

    @Option(help: ArgumentHelp("The key file (32 bytes or more, mode 600).", valueName: "file"))
    var key: String

    @Argument(help: "Identifiers (digits only); none reads them from stdin, one per line.")
    var identifiers: [String] = []

    func validate() throws {
        if let refusal = identifiers.lazy.compactMap(Self.refusal).first {
            throw ValidationError(refusal)
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let pseudonymiser = try KeyFile.pseudonymiser(path: key, flag: "--key")
        if identifiers.isEmpty, isatty(0) == 1 {
            printError("reading identifiers from a terminal; name them or pipe them in")
            throw RunFailure.usage
        }
        let output = OutputFile(descriptor: 1, path: "stdout", capacity: 64 * 1024)
        func emit(_ identifier: String) throws(OutputFile.OutputError) {
            try output.write(
                Array("\(identifier)\t\(pseudonymiser.pseudonym(of: identifier))\n".utf8))
        }
        do {
            for identifier in identifiers { try emit(identifier) }
            var number = 0
            while identifiers.isEmpty, let line = readLine(strippingNewline: true) {
                number += 1
                let identifier = line.hasSuffix("\r") ? String(line.dropLast()) : line
                if identifier.isEmpty { continue }
                if let refusal = Self.refusal(identifier) {
                    try output.flush()
                    printError("stdin:\(number): \(refusal)")
                    throw RunFailure.usage
                }
                try emit(identifier)
            }
            try output.flush()
        } catch OutputFile.OutputError.closed {
            return  // the reader stopped early (`| head`): a normal end, as for the others
        } catch let error as OutputFile.OutputError {
            printError("\(error)")
            throw RunFailure.io
        }
    }

    /// Why `identifier` is refused, or `nil`: catpool writes identifiers as 1 to 32 digits
    /// (no `+`, spaces or letters).
    private static func refusal(_ identifier: String) -> String? {
        guard (1...32).contains(identifier.utf8.count),
            identifier.utf8.allSatisfy({ $0 &- 0x30 < 10 })
        else {
            return "'\(identifier)' is not an identifier as catpool writes it: 1 to 32 digits "
                + "(an MSISDN without '+', an IMEI with its 15th digit)"
        }
        return nil
    }
}
