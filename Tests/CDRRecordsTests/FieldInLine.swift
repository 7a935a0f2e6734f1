import CDRSimulation
import Glibc

/// A field inside a random line, for the tests of the readers that load 16 bytes at once:
/// random bytes before it, the field (with a stray byte in it three times in ten), and up
/// to three random bytes after it.
struct FieldInLine {
    let prefix: [UInt8]
    let field: [UInt8]
    let suffix: [UInt8]

    var line: [UInt8] { prefix + field + suffix }

    /// - Parameters:
    ///   - count: the field's length.
    ///   - symbols: what the field is made of.
    ///   - strays: what may replace one of its bytes.
    init(_ random: inout SimulationRandom, count: Int, symbols: [UInt8], strays: [UInt8]) {
        prefix = (0..<random.int(0..<24)).map { _ in UInt8(random.int(0..<256)) }
        var field = (0..<count).map { _ in symbols[random.int(0..<symbols.count)] }
        if count > 0, random.chance(0.3) {
            field[random.int(0..<count)] = strays[random.int(0..<strays.count)]
        }
        self.field = field
        suffix = (0..<random.int(0..<4)).map { _ in UInt8(random.int(0..<256)) }
    }

    /// Calls `body` twice with the field and the start of its line, placed by unreadable pages.
    ///
    /// Once the line ends where an unreadable page begins, once it starts where one ends. A read
    /// past the line's end or before its start then stops the test process (a fault), where
    /// in a heap buffer it would read a neighbour's bytes unnoticed.
    func withGuardedLine(
        _ body: (_ field: UnsafeRawBufferPointer, _ lineStart: UnsafeRawPointer) -> Void
    ) {
        let line = line
        GuardedPage.shared.withLine(line, endingAtGuard: true) { bytes in
            body(Self.field(in: bytes, after: prefix.count, count: field.count), bytes.baseAddress!)
        }
        GuardedPage.shared.withLine(line, endingAtGuard: false) { bytes in
            body(Self.field(in: bytes, after: prefix.count, count: field.count), bytes.baseAddress!)
        }
    }

    private static func field(in line: UnsafeRawBufferPointer, after offset: Int, count: Int)
        -> UnsafeRawBufferPointer
    {
        UnsafeRawBufferPointer(rebasing: line[offset..<(offset + count)])
    }
}

/// One readable page between two unreadable ones, mapped once for the test process.
final class GuardedPage: @unchecked Sendable {
    static let shared = GuardedPage()

    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    private let page: UnsafeMutableRawPointer
    private let lock = PageLock()

    private init() {
        let size = 3 * pageSize
        guard
            let mapping = mmap(
                nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapping != MAP_FAILED
        else { fatalError("cannot map the guard pages") }
        mprotect(mapping, pageSize, PROT_NONE)
        mprotect(mapping + 2 * pageSize, pageSize, PROT_NONE)
        page = mapping + pageSize
    }

    /// Copies `line` to the readable page and calls `body` with it there.
    ///
    /// The line lies against the page's end or its start. Tests run in parallel: one line at
    /// a time.
    func withLine(
        _ line: [UInt8], endingAtGuard: Bool, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        precondition(line.count <= pageSize, "a line fits on the page")
        lock.locked {
            let start = endingAtGuard ? page + (pageSize - line.count) : page
            line.withUnsafeBytes { start.copyMemory(from: $0.baseAddress!, byteCount: line.count) }
            body(UnsafeRawBufferPointer(start: start, count: line.count))
        }
    }
}

/// A mutex taken around a closure (pthread: this test target has no Foundation).
final class PageLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }

    func locked(_ body: () -> Void) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        body()
    }
}
