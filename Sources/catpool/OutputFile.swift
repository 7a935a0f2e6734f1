import Glibc

/// A buffered writer to a file descriptor, with `write(2)` and nothing in between.
///
/// A closed pipe (EPIPE, SIGPIPE being ignored) surfaces as `OutputError.closed`, which
/// the run treats as a normal end: the reader downstream has what it wanted.
final class OutputFile {
    enum OutputError: Error, CustomStringConvertible {
        case closed
        case failed(path: String, errno: Int32)

        /// What went wrong, without the path.
        var reason: String {
            switch self {
            case .closed: return "closed"
            case .failed(_, let code): return String(cString: strerror(code))
            }
        }

        var description: String {
            switch self {
            case .closed: return "output closed"
            case .failed(let path, let code):
                return "cannot write \(path): \(String(cString: strerror(code)))"
            }
        }
    }

    let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let capacity: Int

    init(descriptor: Int32, path: String, capacity: Int) {
        self.descriptor = descriptor
        self.path = path
        self.capacity = capacity
        ownsDescriptor = false
        buffer.reserveCapacity(capacity)
    }

    /// Creates or truncates `path` for writing; `-` is stdout.
    init(creating path: String, capacity: Int = 256 * 1024) throws(OutputError) {
        if path == "-" {
            descriptor = 1
            ownsDescriptor = false
        } else {
            let opened = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard opened >= 0 else { throw .failed(path: path, errno: errno) }
            descriptor = opened
            ownsDescriptor = true
        }
        self.path = path == "-" ? "stdout" : path
        self.capacity = capacity
        buffer.reserveCapacity(capacity)
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    func write(_ bytes: [UInt8]) throws(OutputError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    func flush() throws(OutputError) {
        var offset = 0
        let count = buffer.count
        while offset < count {
            let written = buffer.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(descriptor, base + offset, count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                buffer.removeAll(keepingCapacity: true)
                throw errno == EPIPE ? .closed : .failed(path: path, errno: errno)
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Writes one message line to stderr, prefixed with the program name; errors are ignored
/// (there is nowhere left to report them).
///
/// Control bytes (below 0x20, and DEL) are written as `\x1b`: messages quote input bytes
/// (a field, a file name, a header), and a dump must not be able to move an analyst's
/// cursor, retitle the terminal or hide text behind a NUL (#13 row 18).
func printError(_ message: String) {
    var line = Array("catpool: ".utf8)
    line.reserveCapacity(line.count + message.utf8.count + 1)
    let hex = Array("0123456789abcdef".utf8)
    for byte in message.utf8 {
        if byte < 0x20 || byte == 0x7F {
            line += [0x5C, 0x78, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        } else {
            line.append(byte)
        }
    }
    line.append(0x0A)
    writeToStandardError(line)
}

/// Writes `line` to descriptor 2 as it is (no prefix), retrying short writes.
func writeToStandardError(_ line: [UInt8]) {
    line.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        var offset = 0
        while offset < raw.count {
            let written = Glibc.write(2, base + offset, raw.count - offset)
            if written <= 0 { if errno == EINTR { continue } else { return } }
            offset += written
        }
    }
}
