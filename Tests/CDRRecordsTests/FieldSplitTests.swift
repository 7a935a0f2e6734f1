import CDRSimulation
import CSupport
import Testing

@testable import CDRRecords

/// The word-wide delimiter search (SSE2 blocks of 16, SWAR words of 8, then bytes) against
/// a plain `split` of the same random lines.
struct FieldSplitTests {
    /// A line of `fields` random fields, none starting with a quote, as bytes; half the
    /// lines have no quote or space at all (most exports), the others a few.
    static func line(fields: Int, delimiter: UInt8, random: inout SimulationRandom) -> [UInt8] {
        var bytes: [UInt8] = []
        let isPlain = random.chance(0.5)
        for field in 0..<fields {
            if field > 0 { bytes.append(delimiter) }
            for position in 0..<random.int(0..<(random.chance(0.1) ? 40 : 12)) {
                // Bytes above 0x7F too (UTF-8), which the quote-or-space test must not catch.
                var byte = UInt8(
                    random.chance(0.1) ? random.int(0x80..<0x100) : random.int(0x20..<0x7F))
                if byte == delimiter || (position == 0 && byte == 0x22) { byte = 0x41 }
                if isPlain, byte == 0x22 || byte == 0x20 { byte = 0x42 }
                bytes.append(byte)
            }
        }
        return bytes
    }

    @Test(arguments: [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "|"), 0x09])
    func findsTheFieldsASplitFinds(delimiter: UInt8) {
        var random = SimulationRandom(seed: UInt64(delimiter), stream: 17)
        for _ in 0..<3000 {
            let columns = 1 + random.int(0..<12)
            // A line with as many fields as columns, or a few more or fewer.
            let fields = max(1, columns + random.int(0..<5) - 2)
            let bytes = Self.line(fields: fields, delimiter: delimiter, random: &random)
            let expected = bytes.split(separator: delimiter, omittingEmptySubsequences: false)
            let roles = (0..<columns).map { UInt8($0) }
            var bounds = [Int](repeating: -1, count: 2 * columns)
            let result = bytes.withUnsafeBytes { line in
                roles.withUnsafeBufferPointer { roles in
                    bounds.withUnsafeMutableBufferPointer { bounds in
                        CallRecordParser.splitUnquoted(
                            line, delimiter: delimiter, roles: roles, into: bounds)
                    }
                }
            }
            // A quote anywhere sends the line to the general splitter, which alone knows
            // where quoting starts, and so do more fields than columns (it counts them);
            // without either, the spaces are reported for trimming.
            guard let result else {
                #expect(
                    bytes.contains(0x22) || expected.count > columns,
                    "a line this splitter takes was handed on")
                continue
            }
            #expect(expected.count <= columns, "a line with too many fields was split here")
            #expect(!bytes.contains(0x22), "a line with a quote was split here")
            #expect(result.hasSpaces == bytes.contains(0x20))
            if expected.count == columns {
                #expect(result.error == nil)
                for (column, field) in expected.enumerated() {
                    #expect(bounds[2 * column] == field.startIndex)
                    #expect(bounds[2 * column + 1] == field.endIndex)
                }
            } else {
                #expect(
                    result.error == .fieldCount(expected: columns, found: expected.count),
                    "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }

    @Test func handsQuotedFieldsToTheGeneralSplitter() {
        let bytes = Array("a,\"b,c\",d".utf8)
        let roles: [UInt8] = [0, 1, 2]
        var bounds = [Int](repeating: -1, count: 6)
        let result = bytes.withUnsafeBytes { line in
            roles.withUnsafeBufferPointer { roles in
                bounds.withUnsafeMutableBufferPointer { bounds in
                    CallRecordParser.splitUnquoted(
                        line, delimiter: UInt8(ascii: ","), roles: roles, into: bounds)
                }
            }
        }
        #expect(result == nil)
    }

    /// The 16-byte search as compiled here (SSE2 on x86-64) and its portable twin (what other
    /// processors compile) against a byte-by-byte oracle, on random blocks dense in the
    /// byte sought.
    @Test func sixteenByteSearchMatchesItsPortableTwinAndTheOracle() {
        var random = SimulationRandom(seed: 16, stream: 3)
        var block = [UInt8](repeating: 0, count: 16)
        for round in 0..<20_000 {
            let byte = UInt8(random.int(0..<256))
            for index in block.indices {
                block[index] = random.chance(0.3) ? byte : UInt8(random.int(0..<256))
            }
            let oracle = block.indices.reduce(UInt32(0)) { mask, index in
                mask | (block[index] == byte ? 1 << index : 0)
            }
            block.withUnsafeBytes { bytes in
                #expect(catpool_match16(bytes.baseAddress, byte) == oracle, "round \(round)")
                #expect(
                    catpool_match16_portable(bytes.baseAddress, byte) == oracle, "round \(round)")
            }
        }
    }

    /// The one-compare quote-or-space search (SSE2 here) and its portable twin against a
    /// byte-by-byte oracle, on random blocks dense in quotes, spaces and their neighbours
    /// (0x21 and 0x23, which the folding must not catch), and on every byte value.
    @Test func quoteOrSpaceSearchMatchesItsPortableTwinAndTheOracle() {
        var random = SimulationRandom(seed: 22, stream: 5)
        var block = [UInt8](repeating: 0, count: 16)
        for round in 0..<20_000 {
            for index in block.indices {
                // The first 16 rounds hold every byte value once.
                block[index] =
                    round < 16
                    ? UInt8(round * 16 + index)
                    : random.chance(0.5)
                        ? [0x20, 0x21, 0x22, 0x23, 0xA0, 0xA2][random.int(0..<6)]
                        : UInt8(random.int(0..<256))
            }
            let oracle = block.indices.reduce(UInt32(0)) { mask, index in
                mask | (block[index] == 0x22 || block[index] == 0x20 ? 1 << index : 0)
            }
            block.withUnsafeBytes { bytes in
                #expect(catpool_quote_or_space16(bytes.baseAddress) == oracle, "round \(round)")
                #expect(
                    catpool_quote_or_space16_portable(bytes.baseAddress) == oracle,
                    "round \(round)")
            }
        }
    }
}
