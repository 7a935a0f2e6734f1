// libFuzzer entry point for the decoder front end: format detection, zstd (with skippable
// frames), gzip (multi-member), plain text, and the line splitter after it, fed in uneven
// slices. Built by Tests/Fuzz/fuzz.sh together with the CDRInput sources.
//
// Corrupt input must end in a thrown `InputError`, never a crash, a hang or an ASan report.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
    defer { output.deallocate() }
    let decoder = StreamDecoder()
    var splitter = LineSplitter(maxLineBytes: 512)
    var lines = 0
    do {
        // Slices of 1, 7 and 61 bytes in turn: boundaries fall everywhere.
        var offset = 0
        var step = 0
        while offset < size {
            let length = min([1, 7, 61][step % 3], size - offset)
            var slice = UnsafeRawBufferPointer(rebasing: input[offset..<(offset + length)])
            while true {
                let count = try decoder.decode(&slice, into: output)
                splitter.feed(UnsafeRawBufferPointer(rebasing: output[..<count])) { _ in lines += 1
                }
                if slice.isEmpty && count < output.count { break }
            }
            offset += length
            step += 1
        }
        while true {
            let count = try decoder.finish(into: output)
            if count == 0 { break }
            splitter.feed(UnsafeRawBufferPointer(rebasing: output[..<count])) { _ in lines += 1 }
        }
        splitter.finish { _ in lines += 1 }
    } catch {
        // A damaged stream: reported, as it should be.
    }
    return lines < 0 ? 1 : 0
}
