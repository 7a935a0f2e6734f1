/// Writes JSON as bytes, by hand, in one fixed format: no spaces, keys in the order written,
/// numbers as `formatDecimal` prints them.
///
/// `JSONText` imports nothing: `CDRPipeline` writes its output lines with it (the wire format
/// itself is specified in `OutputEvent.swift`), and `CDRSimulation` its truth file.
///
/// Foundation's `JSONEncoder` is 6 to 8 times slower here and orders nothing by itself;
/// this writer makes byte-identical output the natural result.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init() {}

    public mutating func beginObject() { separate(); bytes.append(0x7B); needsComma = false }
    public mutating func endObject() { bytes.append(0x7D); needsComma = true }
    public mutating func beginArray() { separate(); bytes.append(0x5B); needsComma = false }
    public mutating func endArray() { bytes.append(0x5D); needsComma = true }

    /// Writes `"key":`; the value must follow.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(0x22)
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(0x22)
        bytes.append(0x3A)
        needsComma = false
    }

    /// Writes `"key":` for a key known only at run time (escaped).
    public mutating func key(_ name: String) {
        string(name)
        bytes.append(0x3A)
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        var value = value
        value.withUTF8 { Self.appendEscaped(UnsafeRawBufferPointer($0), to: &bytes) }
        needsComma = true
    }

    /// Writes bytes as a JSON string; invalid UTF-8 becomes U+FFFD.
    public mutating func string(bytes raw: UnsafeRawBufferPointer) {
        let text = String(decoding: raw, as: UTF8.self)
        string(text)
    }

    public mutating func int(_ value: Int) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    /// Writes a number with at most `fractionDigits` decimals, trailing zeros dropped.
    public mutating func decimal(_ value: Double, fractionDigits: Int = 6) {
        separate()
        bytes.append(contentsOf: formatDecimal(value, fractionDigits: fractionDigits).utf8)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// Writes a value that is already JSON (from another writer).
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// Ends a JSON line: appends `\n` and readies the writer for the next value.
    public mutating func newline() {
        bytes.append(0x0A)
        needsComma = false
    }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    private mutating func separate() {
        if needsComma { bytes.append(0x2C) }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func appendEscaped(_ raw: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        bytes.append(0x22)
        for byte in raw {
            switch byte {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)
            case 0x09: bytes.append(0x5C); bytes.append(0x74)
            case 0..<0x20, 0x7F:
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30])
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }
}

/// Prints `value` rounded to `fractionDigits` decimals with trailing zeros removed
/// (`0.97`, `12`, `-0.5`), the same on every machine: integer arithmetic, no locale.
public func formatDecimal(_ value: Double, fractionDigits: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale: Int64 = 1
    for _ in 0..<fractionDigits { scale *= 10 }
    let scaled = (abs(value) * Double(scale)).rounded()
    guard scaled < 9.0e18 else { return String(Int64(value.rounded())) }
    let units = Int64(scaled)
    var text = units < 0 || (value < 0 && units != 0) ? "-" : ""
    text += String(units / scale)
    var fraction = units % scale
    if fraction != 0 {
        var digits = fractionDigits
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let body = String(fraction)
        text += "." + String(repeating: "0", count: digits - body.count) + body
    }
    return text
}
