import CDRSimulation

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

    /// Calls `body` with the field and the start of its line, in a buffer of exactly the
    /// line's bytes: a read before the line's start or past its end leaves the buffer
    /// (AddressSanitizer, in the parser fuzzer, reports that).
    func withExactBuffer(
        _ body: (_ field: UnsafeRawBufferPointer, _ lineStart: UnsafeRawPointer) -> Void
    ) {
        let line = line
        let exact = UnsafeMutableRawBufferPointer.allocate(byteCount: line.count, alignment: 1)
        defer { exact.deallocate() }
        line.withUnsafeBytes { exact.copyMemory(from: $0) }
        withExtendedLifetime(exact) {
            let bytes = UnsafeRawBufferPointer(exact)
            guard let start = bytes.baseAddress else { return }
            body(
                UnsafeRawBufferPointer(
                    rebasing: bytes[prefix.count..<(prefix.count + field.count)]),
                start)
        }
    }
}
