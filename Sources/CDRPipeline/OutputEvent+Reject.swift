import CDRInput
import CDRRecords
import JSONText

extension OutputEvent {
    /// Appends a rejected line as one JSON line of the rejects output (`--rejects`).
    ///
    /// | key | type | meaning |
    /// | --- | --- | --- |
    /// | `input` | string | the input's name as given (`-` for stdin) |
    /// | `line` | number | the line's number in its input, from 1 |
    /// | `reason` | string | the reject reason (`RejectReason`), snake_case |
    /// | `detail` | string | what was wrong, as on stderr |
    /// | `text` | string | the line without its line end, cut at 1 KiB on a character boundary; invalid UTF-8 becomes U+FFFD |
    ///
    /// With a `pseudonymiser`, `text` is redacted whole and then cut (a cut must not leave the
    /// head of an identifier raw); `detail` comes redacted.
    ///
    /// ```json
    /// {"input":"day.csv.zst","line":10,"reason":"bad_time","detail":"field \"event_time\": not a time in a supported form: \"20261320001000\"","text":"460-00-4521-12340;MSC-3;12;…"}
    /// ```
    static func encodeReject(
        input: String, line: LineSplitter.Line, _ error: RecordError,
        pseudonymiser: Pseudonymiser?, into bytes: inout [UInt8]
    ) {
        var json = JSONWriter()
        json.beginObject()
        json.key("input"); json.string(input)
        json.key("line"); json.int(line.number)
        json.key("reason"); json.string(error.reason.rawValue)
        json.key("detail"); json.string(error.description)
        if let pseudonymiser {
            pseudonymiser.redactingDigitRuns(line.bytes).withUnsafeBytes {
                json.key("text"); json.string(bytes: textForReport($0))
            }
        } else {
            json.key("text"); json.string(bytes: textForReport(line.bytes))
        }
        json.endObject()
        json.newline()
        bytes.append(contentsOf: json.bytes)
    }

    /// At most 1 KiB of the line, cut at a UTF-8 character boundary.
    static func textForReport(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let limit = 1024
        guard bytes.count > limit else { return bytes }
        var end = limit
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }  // do not split a character
        return UnsafeRawBufferPointer(rebasing: bytes[..<end])
    }
}
