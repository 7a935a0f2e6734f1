import JSONText
import Testing

struct JSONWriterTests {
    @Test(arguments: [
        (0.0, 3, "0"), (1.5, 3, "1.5"), (0.97, 6, "0.97"), (2.0 / 3.0, 3, "0.667"),
        (-0.25, 2, "-0.25"),
        (12.0, 2, "12"), (0.0004, 3, "0"), (-0.0004, 3, "0"), (1234567.891, 1, "1234567.9"),
        (0.05, 4, "0.05"),
    ])
    func formatsDecimalsTheSameEverywhere(value: Double, digits: Int, expected: String) {
        #expect(formatDecimal(value, fractionDigits: digits) == expected)
    }

    @Test func escapesStringsAndSeparatesValues() {
        var json = JSONWriter()
        json.beginObject()
        json.key("text"); json.string("a\"b\\c\n\u{01}é")
        json.key("list"); json.beginArray(); json.int(1); json.int(-2); json.null(); json.endArray()
        json.key("ok"); json.bool(true)
        json.endObject()
        json.newline()
        #expect(
            String(decoding: json.bytes, as: UTF8.self)
                == "{\"text\":\"a\\\"b\\\\c\\n\\u0001é\",\"list\":[1,-2,null],\"ok\":true}\n")
    }

    @Test func separatesByteStringsInAnArrayOnce() {
        var json = JSONWriter()
        json.beginArray()
        for text in ["a", "b\u{FF}", "c"] {
            var bytes = Array(text.utf8)
            if text.hasPrefix("b") { bytes.append(0xFF) }  // invalid UTF-8 becomes U+FFFD
            bytes.withUnsafeBytes { json.string(bytes: $0) }
        }
        json.endArray()
        #expect(String(decoding: json.bytes, as: UTF8.self) == "[\"a\",\"b\u{FF}\u{FFFD}\",\"c\"]")
    }
}
