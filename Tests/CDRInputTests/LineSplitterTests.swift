import CDRInput
import CDRTestSupport
import Testing

struct LineSplitterTests {
    /// What a line splitter must return: the obvious reading of the whole input at once.
    static func oracle(_ input: [UInt8], maxLineBytes: Int) -> [SplitLine] {
        var lines = input.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if input.last == 0x0A || input.isEmpty { lines.removeLast() }
        return lines.enumerated().map { index, raw in
            var content = raw
            if content.last == 0x0D { content.removeLast() }
            if content.count > maxLineBytes {
                return SplitLine(
                    number: index + 1,
                    bytes: Array(content.prefix(LineSplitter.retainedOverlongBytes)),
                    length: content.count, isOverlong: true)
            }
            return SplitLine(
                number: index + 1, bytes: content, length: content.count, isOverlong: false)
        }
    }

    struct SplitLine: Equatable, CustomStringConvertible {
        var number: Int
        var bytes: [UInt8]
        var length: Int
        var isOverlong: Bool
        var description: String {
            "\(number):\(isOverlong ? "overlong " : "")\(length):\(String(decoding: bytes.prefix(40), as: UTF8.self))"
        }
    }

    static func split(_ input: [UInt8], chunkSize: Int, maxLineBytes: Int) -> [SplitLine] {
        var splitter = LineSplitter(maxLineBytes: maxLineBytes)
        var lines: [SplitLine] = []
        let collect = { (line: LineSplitter.Line) in
            lines.append(
                SplitLine(
                    number: line.number, bytes: Array(line.bytes), length: line.length,
                    isOverlong: line.isOverlong))
        }
        for chunk in chunks(input, size: chunkSize) {
            chunk.withUnsafeBytes { splitter.feed($0, collect) }
        }
        splitter.finish(collect)
        return lines
    }

    /// An input with a short name, so test logs stay readable.
    struct Input: CustomTestStringConvertible, Sendable {
        var name: String
        var text: String
        var testDescription: String { name }
    }

    static let inputs: [Input] = [
        Input(name: "empty", text: ""),
        Input(name: "one newline", text: "\n"),
        Input(name: "no line end", text: "one"),
        Input(name: "one line", text: "one\n"),
        Input(name: "two lines", text: "one\ntwo\n"),
        Input(name: "CRLF and blank", text: "one\r\ntwo\r\n\r\nfour"),
        Input(name: "leading blanks", text: "\n\n\nlast without newline"),
        Input(name: "lone CRs", text: "a\rb\n\r\n\r"),
        Input(
            name: "long lines",
            text: "header,line\n" + String(repeating: "x", count: 300) + "\nshort\n"
                + String(repeating: "y", count: 5000) + "\r\nend"),
    ]

    @Test(arguments: inputs, streamingChunkSizes)
    func matchesWholeInputOracleAtEveryChunkSize(input: Input, chunkSize: Int) {
        let bytes = Array(input.text.utf8)
        for maxLineBytes in [100, 64 * 1024] {
            #expect(
                Self.split(bytes, chunkSize: chunkSize, maxLineBytes: maxLineBytes)
                    == Self.oracle(bytes, maxLineBytes: maxLineBytes))
        }
    }

    @Test(arguments: streamingChunkSizes)
    func resynchronisesAfterAnOverlongLine(chunkSize: Int) {
        let long = String(repeating: "z", count: 10_000)
        let bytes = Array("first\n\(long)\r\nafter\n".utf8)
        let lines = Self.split(bytes, chunkSize: chunkSize, maxLineBytes: 256)
        #expect(lines.map(\.number) == [1, 2, 3])
        #expect(lines[1].isOverlong && lines[1].length == 10_000 && lines[1].bytes.count == 1024)
        #expect(lines[2].bytes == Array("after".utf8))
    }

    @Test func countsLinesAndRestartsAfterReset() {
        var splitter = LineSplitter()
        var numbers: [Int] = []
        Array("a\nb\nc".utf8).withUnsafeBytes { splitter.feed($0) { numbers.append($0.number) } }
        #expect(splitter.pendingByteCount == 1)
        splitter.reset()
        Array("x\n".utf8).withUnsafeBytes { splitter.feed($0) { numbers.append($0.number) } }
        #expect(numbers == [1, 2, 1])
    }
}
