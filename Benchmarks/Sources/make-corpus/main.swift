import CDRInput
import CorpusGenerator
import Glibc

/// Why writing the corpus stopped.
struct MakeCorpusError: Error, CustomStringConvertible {
    var description: String
}

func complain(_ message: String) {
    let line = Array("make-corpus: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

// make-corpus RECORDS FILE: writes the benchmark corpus as zstd (level 3) to FILE.
let arguments = CommandLine.arguments
guard arguments.count == 3, let records = Int(arguments[1]), records > 0 else {
    complain("usage: make-corpus RECORDS FILE.csv.zst")
    exit(64)
}
let descriptor = open(arguments[2], O_WRONLY | O_CREAT | O_TRUNC, 0o644)
guard descriptor >= 0 else {
    complain("cannot create \(arguments[2])")
    exit(74)
}
func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
        let written = write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
        guard written > 0 else { throw MakeCorpusError(description: "write failed: \(String(cString: strerror(errno)))") }
        offset += written
    }
}
do {
    let encoder = try ZstdStreamEncoder(level: 3, workers: 1)
    try Corpus.write(records: records) { batch in try batch.withUnsafeBytes { try encoder.compress($0, writeAll) } }
    try encoder.finish(writeAll)
    close(descriptor)
} catch {
    complain("\(error)")
    exit(74)
}
