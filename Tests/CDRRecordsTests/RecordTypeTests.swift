import CDRSimulation
import Testing

@testable import CDRRecords

/// `RecordType(field:)` reads a field as one word from overlapping loads; a plain
/// upper-cased comparison with the five names is its oracle.
struct RecordTypeTests {
    static func oracle(_ bytes: [UInt8]) -> RecordType? {
        let upper = bytes.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        return RecordType.allCases.first { Array($0.description.utf8) == upper }
    }

    @Test func readsEveryNameInAnyCase() {
        for type in RecordType.allCases {
            let name = Array(type.description.utf8)
            for variant in [name, name.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }] {
                #expect(variant.withUnsafeBytes { RecordType(field: $0) } == type)
            }
        }
    }

    /// Near misses: the names with one byte changed, cut or lengthened, among random bytes.
    @Test func agreesWithThePlainComparisonOnNearMisses() {
        var random = SimulationRandom(seed: 5, stream: 11)
        let names = RecordType.allCases.map { Array($0.description.utf8) }
        let strays: [UInt8] = [0x00, 0x20, 0x5F, 0x7F, 0x80, 0xDF, 0xFF, 0x41, 0x61, 0x4D, 0x6D]
        for round in 0..<20_000 {
            var bytes = names[random.int(0..<names.count)]
            switch random.int(0..<4) {
            case 0: bytes[random.int(0..<bytes.count)] = strays[random.int(0..<strays.count)]
            case 1: bytes.removeLast(random.int(0..<bytes.count))
            case 2: bytes.append(strays[random.int(0..<strays.count)])
            default:
                bytes = (0..<random.int(0..<8)).map { _ in UInt8(random.int(0..<256)) }
            }
            // Padding after the field: the loads must stay inside it.
            let padded = bytes + [0x4D, 0x4F, 0x43]
            let read = padded.withUnsafeBytes {
                RecordType(field: UnsafeRawBufferPointer(rebasing: $0.prefix(bytes.count)))
            }
            #expect(read == Self.oracle(bytes), "round \(round): \(bytes)")
        }
    }
}
