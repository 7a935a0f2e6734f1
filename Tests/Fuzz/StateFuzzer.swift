// libFuzzer entry point for restoring a saved detector (`--state`), with the checksum
// bypassed: a forged file with a correct checksum reaches exactly this code. Built by
// Tests/Fuzz/fuzz.sh against the CDRRecords, SlidingWindows and SIMBoxDetection modules.
//
// Input: the cell and location counts the detector may refer to (two little-endian 16-bit
// numbers, as `Pipeline` restores them before the detector), then the detector's section of
// a state file. Whatever restores must then run: records of the SIMs named in the input are
// fed around the restored window, the detector is saved, the saved bytes must restore
// again, and the windows are finished. A crash, a trap, a hang or an ASan report is a
// finding; a refusal (`StateError`) is the expected answer to a bad file.
//
// Seeds (Fixtures/fuzz/state): the two counts, then the detector's section of a real state
// file (after the magic line, version, cells and locations; without the checksum):
// `box-one-cell-tracked` from `catpool detect --cells box-one-cell/cells.csv --state S` over
// the first 400 lines of Fixtures/replay/box-one-cell/input.csv (a box tracked, its SIMs
// hot), `box-sim-bank` from `catpool detect --state S` over box-sim-bank. A new
// `stateVersion` means making them again the same way.
//
// The custom mutator knows the format is 8-byte words: half the time it writes a value
// that has broken restores before (0, -1, Int64.min/max, 2^31, small counts, a time) over
// one aligned word, and otherwise leaves the mutation to libFuzzer.

import CDRRecords
import SIMBoxDetection

@_silgen_name("LLVMFuzzerMutate")
func libFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

private let header = 4
private let interesting: [UInt64] = [
    0, 1, 2, 15, 16, 17, 4096, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000,
    UInt64(bitPattern: -1), UInt64(bitPattern: -2), UInt64(Int64.max),
    UInt64(bitPattern: Int64.min), UInt64(bitPattern: Int64.min + 1),
    1_795_147_172_000, 7_258_118_400_000, 631_152_000_000,
]

@_cdecl("LLVMFuzzerCustomMutator")
public func mutateState(
    _ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32
) -> Int {
    var random = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
    func next() -> Int {
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        return Int(truncatingIfNeeded: random >> 1)
    }
    let words = (size - header) / 8
    guard words > 0, next() % 2 == 0 else { return libFuzzerMutate(data, size, maxSize) }
    var value = interesting[next() % interesting.count]
    if next() % 4 == 0 { value ^= 1 << UInt64(next() % 64) }
    let offset = header + 8 * (next() % words)
    for index in 0..<8 { data[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    return size
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStateRestore(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= header else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let references = StateReferences(
        cellCount: Int(bytes[0]) | Int(bytes[1]) << 8,
        locationCount: Int(bytes[2]) | Int(bytes[3]) << 8)
    let section = Array(bytes[header...])
    let limits = StateLimits(maxBytes: 16 << 20)
    var reader = memoryReader(section)
    guard
        var detector = try? CatPoolDetector(
            profile: .standard, limits: limits, references: references, restoring: &reader)
    else { return 0 }
    var decisions: [ClusterDecision] = []
    for record in records(naming: section, references: references) {
        detector.feed(record.record, location: record.location, into: &decisions)
    }
    var saved: [UInt8] = []
    var writer = StateWriter { saved.append(contentsOf: $0) }
    detector.save(into: &writer)
    writer.finish()
    // The bytes the detector saved restore again (the checksum is not part of them).
    var again = memoryReader(saved)
    // The records fed may name one cell and one location past those restored (see
    // `records`), as a run's new ones are; the pipeline saves them with the detector.
    let grown = StateReferences(
        cellCount: references.cellCount + 1, locationCount: references.locationCount + 1)
    do {
        _ = try CatPoolDetector(
            profile: .standard, limits: limits, references: grown, restoring: &again)
    } catch {
        fatalError("a restored detector saved what cannot be restored: \(error)")
    }
    detector.finish(into: &decisions)
    return 0
}

private func memoryReader(_ bytes: [UInt8]) -> StateReader {
    var position = 0
    return StateReader(
        source: { buffer in
            let count = min(buffer.count, bytes.count - position)
            bytes.withUnsafeBytes { raw in
                buffer.copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: raw[position..<(position + count)]))
            }
            position += count
            return count
        },
        rewind: { position = 0 })
}

/// Records of the SIMs whose IMSIs the input holds (any aligned word that reads as one),
/// calls and data, from a minute before the restored newest call to ten hours after it,
/// at known and new cells and locations.
private func records(naming section: [UInt8], references: StateReferences)
    -> [(record: CallRecord, location: Int32)]
{
    func word(_ offset: Int) -> UInt64 {
        guard offset + 8 <= section.count else { return 0 }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(section[offset + index]) << (8 * UInt64(index)) }
        return value
    }
    var imsis: [IMSI] = []
    for offset in stride(from: 0, to: section.count - 7, by: 8) where imsis.count < 32 {
        let value = word(offset)
        // Only an IMSI as the parser packs it (6 to 15 digits behind a leading 1), as a real
        // run's records hold; `IMSI(rawValue:)` takes any large number.
        let isPacked = (6...15).contains { digits in
            let power = (0..<digits).reduce(UInt64(1)) { power, _ in power * 10 }
            return value >= power && value < 2 * power
        }
        if isPacked, let imsi = IMSI(rawValue: value) { imsis.append(imsi) }
    }
    imsis.append(
        contentsOf: [IMSI(rawValue: 1_460_001_234_567_890), IMSI(rawValue: 1_000_001)].compactMap {
            $0
        })
    // The newest call, as `CatPoolDetector.save` writes it after the window's shape and the
    // record layouts.
    let newest = Int64(bitPattern: word(7 * 8))
    let start =
        newest > 631_152_000_000 && newest < 7_000_000_000_000 ? newest - 60_000 : 1_795_140_000_000
    let types: [RecordType] = [.moc, .moc, .mtc, .data]
    var result: [(record: CallRecord, location: Int32)] = []
    for index in 0..<256 {
        let imsi = imsis[index % imsis.count]
        let time = start + Int64(index) * 150_000 * Int64(1 + index % 3)
        let cell = UInt32(index % (references.cellCount + 1))
        let location = Int32(index % (references.locationCount + 1))
        let record = CallRecord(
            eventTime: EventTime(millisecondsSinceEpoch: time), type: types[index % types.count],
            imsi: imsi, imei: IMEI(tac: 35_000_000 + index % 5, serial: index),
            msisdn: PhoneNumber(rawValue: 18_613_800_000_000 + UInt64(index % 40)),
            peer: PhoneNumber(rawValue: 18_613_900_000_000 + UInt64(index)),
            durationSeconds: Int32(index % 4 == 0 ? 0 : index), cell: CellID(rawValue: cell))
        result.append((record, location))
    }
    return result
}
