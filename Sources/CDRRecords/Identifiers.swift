internal import CSupport

/// A string of 1 to 18 decimal digits packed into one integer.
///
/// The digits are stored behind a leading `1`, so leading zeros survive: `"0012"` packs to
/// `10012` and `"12"` to `112`. Zero never occurs and is free to mean "absent". Packing is
/// exact and order-preserving among strings of equal length.
enum PackedDigits {
    static let maxDigits = 18

    /// Packs `field` when it is 1 to 18 ASCII digits.
    ///
    /// Eight digits at a time where it can (an IMSI is 15 digits: one word and seven bytes).
    @inline(__always)
    static func pack(_ field: UnsafeRawBufferPointer) -> UInt64? {
        let count = field.count
        guard count >= 1, count <= maxDigits, let base = field.baseAddress else { return nil }
        var value: UInt64 = 1
        var index = 0
        while index + 8 <= count {
            let word = UInt64(
                littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            guard let eight = eightDigits(word) else { return nil }
            value = value &* 100_000_000 &+ eight
            index += 8
        }
        let rest = count - index
        if rest > 0, index > 0 {
            // The last 1...7 digits: load the eight bytes that end the field (all inside it)
            // and read the bytes already taken as leading zeros.
            let word = UInt64(
                littleEndian: base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
            // (Masking shift: `rest` is 1...7, and the plain `<<` checks for overshifts.)
            let taken: UInt64 = (1 &<< UInt64(truncatingIfNeeded: (8 &- rest) &* 8)) &- 1
            guard let tail = eightDigits((word & ~taken) | (0x3030_3030_3030_3030 & taken)) else {
                return nil
            }
            return value &* allPowersOfTen[rest] &+ tail
        }
        while index < count {
            let digit = base.load(fromByteOffset: index, as: UInt8.self) &- 0x30
            guard digit < 10 else { return nil }
            value = value &* 10 &+ UInt64(digit)
            index += 1
        }
        return value
    }

    /// Packs `field` as `pack(_:)` does, in one 16-byte load where it can.
    ///
    /// The load (`catpool_digits16`) needs the 16 bytes before the field's end readable: from
    /// `readableStart` on (the start of the line the field is in). Otherwise, or with `nil`
    /// for `readableStart`, the field is read as `pack(_:)` reads it.
    @inline(__always)
    static func pack(_ field: UnsafeRawBufferPointer, readableFrom readableStart: UnsafeRawPointer?)
        -> UInt64?
    {
        let count = field.count
        guard let start = readableStart, let base = field.baseAddress, count >= 1, count <= 16,
            start.distance(to: base + count) >= 16
        else { return pack(field) }
        let value = catpool_digits16(base + count, Int32(truncatingIfNeeded: count))
        return value == .max ? nil : allPowersOfTen[count] &+ value
    }

    /// The value of eight ASCII digits loaded little-endian (first digit in the low byte), or
    /// `nil` when any byte is not a digit. (The multiply-and-shift reduction is fast_float's.)
    @inline(__always)
    static func eightDigits(_ word: UInt64) -> UInt64? {
        let digits = word &- 0x3030_3030_3030_3030
        // A byte that was below "0" has wrapped to its top bit; one above "9" reaches it
        // when 0x76 is added. (Borrows and carries only spread from bytes already caught.)
        guard (digits | (digits &+ 0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 == 0 else {
            return nil
        }
        let pairs = (digits &* 10) &+ (digits >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        return
            ((pairs & mask) &* (100 + (1_000_000 << 32))
            &+ ((pairs >> 16) & mask) &* (1 + (10_000 << 32))) >> 32
    }

    /// 10^0 through 10^19, spelled out: an array of literals is laid out at compile time,
    /// where one built by a closure costs a `swift_once` check at every use (callgrind: 20
    /// instructions a record, as parsing packs three numbers a line).
    private static let allPowersOfTen: [UInt64] = [
        1, 10, 100, 1_000,
        10_000, 100_000, 1_000_000, 10_000_000,
        100_000_000, 1_000_000_000, 10_000_000_000, 100_000_000_000,
        1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
        10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
        10_000_000_000_000_000_000,
    ]

    /// The number of digits after the leading `1`: ⌊log10(packed)⌋, from the bit length
    /// (a table lookup, not a division a digit: sorting clusters' SIMs compares thousands).
    @inline(__always)
    static func digitCount(_ packed: UInt64) -> Int {
        guard packed > 0 else { return 0 }
        let bits = 64 - packed.leadingZeroBitCount
        let guess = (bits &* 1233) >> 12  // 1233 / 4096 ≈ log10(2)
        return packed < allPowersOfTen[guess] ? guess - 1 : guess
    }

    /// Appends the digits (without the leading `1`) to `bytes`.
    static func write(_ packed: UInt64, into bytes: inout [UInt8]) {
        let count = digitCount(packed)
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0x30, count: count))
        var rest = packed
        for offset in stride(from: count - 1, through: 0, by: -1) {
            bytes[start + offset] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
            rest /= 10
        }
    }

    /// Orders packed strings as their digit strings order (lexicographically), without
    /// building the strings: both are padded on the right to 18 digits, and on a tie the
    /// shorter string comes first.
    static func lexicographicallyPrecedes(_ lhs: UInt64, _ rhs: UInt64) -> Bool {
        lexicographicKey(lhs) < lexicographicKey(rhs)
    }

    /// A key that orders packed strings as `lexicographicallyPrecedes` does: the digits
    /// padded on the right to 18, then the length.
    @inline(__always)
    static func lexicographicKey(_ packed: UInt64) -> (padded: UInt64, length: Int) {
        let count = digitCount(packed)
        return ((packed - power(count)) * power(maxDigits - count), count)
    }

    @inline(__always)
    static func power(_ exponent: Int) -> UInt64 { allPowersOfTen[exponent] }

    static func string(_ packed: UInt64) -> String {
        var bytes: [UInt8] = []
        write(packed, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The identity of a SIM (International Mobile Subscriber Identity): 6 to 15 digits.
public struct IMSI: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The digits, packed (see the module's `PackedDigits`); never zero.
    public let rawValue: UInt64

    public init?(rawValue: UInt64) {
        guard rawValue >= 1_000_000 else { return nil }
        self.rawValue = rawValue
    }

    init(uncheckedRawValue: UInt64) { rawValue = uncheckedRawValue }

    /// Reads an IMSI from ASCII digits.
    public init?(digits field: UnsafeRawBufferPointer) {
        self.init(digits: field, readableFrom: nil)
    }

    /// Reads an IMSI from ASCII digits, in one load when the bytes from `readableStart` on
    /// allow it (see `PackedDigits.pack(_:readableFrom:)`).
    @inline(__always)
    init?(digits field: UnsafeRawBufferPointer, readableFrom readableStart: UnsafeRawPointer?) {
        guard field.count >= 6, field.count <= 15,
            let packed = PackedDigits.pack(field, readableFrom: readableStart)
        else { return nil }
        rawValue = packed
    }

    public init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ IMSI(digits: UnsafeRawBufferPointer($0)) }) else {
            return nil
        }
        self = value
    }

    /// Orders as the digit strings do.
    public static func < (lhs: IMSI, rhs: IMSI) -> Bool {
        PackedDigits.lexicographicallyPrecedes(lhs.rawValue, rhs.rawValue)
    }

    /// A key that orders IMSIs as `<` does, for sorting many: computed once an IMSI, not
    /// twice a comparison.
    public var orderKey: (padded: UInt64, length: Int) {
        PackedDigits.lexicographicKey(rawValue)
    }

    public var description: String { PackedDigits.string(rawValue) }

    public func write(into bytes: inout [UInt8]) { PackedDigits.write(rawValue, into: &bytes) }
}

/// A handset identity reduced to its 14 digits: the 8-digit TAC (model) and the 6-digit
/// serial number.
///
/// A 15-digit IMEI loses its Luhn check digit and a 16-digit IMEISV its 2-digit software
/// version, so the same handset reported either way is one IMEI. The check digit is not
/// verified: gateways rewrite IMEIs at will, and an invalid one is evidence, not noise.
public struct IMEI: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// `10^14 + TAC × 10^6 + serial`.
    public let rawValue: UInt64

    private static let base: UInt64 = 100_000_000_000_000

    public init(tac: Int, serial: Int) {
        precondition((0..<100_000_000).contains(tac) && (0..<1_000_000).contains(serial))
        rawValue = Self.base + UInt64(tac) * 1_000_000 + UInt64(serial)
    }

    /// Wraps a raw value this module packed (a record's stored IMEI).
    init(uncheckedRawValue: UInt64) { rawValue = uncheckedRawValue }

    /// Wraps a raw value made by `init(tac:serial:)` (for simulators that store IMEIs packed).
    public init(rawValue14 rawValue: UInt64) {
        precondition(
            rawValue >= Self.base && rawValue < 2 * Self.base, "not a packed 14-digit IMEI")
        self.rawValue = rawValue
    }

    /// Reads an IMEI (14 or 15 digits) or IMEISV (16 digits); `nil` for anything else.
    public init?(digits field: UnsafeRawBufferPointer) {
        self.init(digits: field, readableFrom: nil)
    }

    /// Reads an IMEI or IMEISV, in one load when the bytes from `readableStart` on allow it
    /// (see `PackedDigits.pack(_:readableFrom:)`).
    @inline(__always)
    init?(digits field: UnsafeRawBufferPointer, readableFrom readableStart: UnsafeRawPointer?) {
        guard field.count >= 14, field.count <= 16,
            let packed = PackedDigits.pack(
                UnsafeRawBufferPointer(rebasing: field[..<14]), readableFrom: readableStart)
        else { return nil }
        for index in 14..<field.count where field[index] &- 0x30 >= 10 { return nil }
        rawValue = packed
    }

    public init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ IMEI(digits: UnsafeRawBufferPointer($0)) }) else {
            return nil
        }
        self = value
    }

    /// Type Allocation Code: the first 8 digits, naming the device model.
    public var tac: Int { Int((rawValue - Self.base) / 1_000_000) }
    /// The serial number: the 6 digits after the TAC.
    public var serial: Int { Int((rawValue - Self.base) % 1_000_000) }
    /// `true` for the all-zero IMEI that some switches write when the IMEI is unknown.
    public var isZero: Bool { rawValue == Self.base }

    public static func < (lhs: IMEI, rhs: IMEI) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The 15-digit IMEI: the 14 digits and a recomputed Luhn check digit.
    public var description: String {
        var bytes: [UInt8] = []
        write(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 15-digit IMEI (with a recomputed check digit) to `bytes`.
    public func write(into bytes: inout [UInt8]) {
        let start = bytes.count
        PackedDigits.write(rawValue, into: &bytes)
        var sum = 0
        for (position, index) in (start..<bytes.count).reversed().enumerated() {
            let digit = Int(bytes[index] - 0x30)
            if position % 2 == 0 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        bytes.append(UInt8(0x30 + (10 - sum % 10) % 10))
    }
}

/// A phone number (an MSISDN or the other party of a call): up to 18 digits, stored without
/// a leading `+`, so `+8613800138000` and `8613800138000` are the same number.
///
/// Only the `peer` column may also hold a non-numeric sender (an SMS from `BANK`): it is
/// kept as a 63-bit hash of its bytes, flagged in the top bit, so distinct senders stay
/// distinct for counting without a `String` per record.
public struct PhoneNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    private static let alphanumericFlag: UInt64 = 1 << 63

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Reads digits with an optional leading `+`; `nil` for anything else.
    public init?(digits field: UnsafeRawBufferPointer) {
        self.init(digits: field, readableFrom: nil)
    }

    /// Reads a number as `init(digits:)` does, in one load when the bytes from
    /// `readableStart` on allow it (see `PackedDigits.pack(_:readableFrom:)`).
    @inline(__always)
    init?(digits field: UnsafeRawBufferPointer, readableFrom readableStart: UnsafeRawPointer?) {
        var digits = field
        if let first = digits.first, first == 0x2B {
            digits = UnsafeRawBufferPointer(rebasing: digits.dropFirst())
        }
        guard let packed = PackedDigits.pack(digits, readableFrom: readableStart) else {
            return nil
        }
        rawValue = packed
    }

    /// Reads a number as `init(digits:)` does, or else keeps a hash of a non-numeric sender.
    public init(numberOrSender field: UnsafeRawBufferPointer) {
        self.init(numberOrSender: field, readableFrom: nil)
    }

    /// Reads a number or a sender as `init(numberOrSender:)` does, a number in one load when
    /// the bytes from `readableStart` on allow it.
    @inline(__always)
    init(
        numberOrSender field: UnsafeRawBufferPointer, readableFrom readableStart: UnsafeRawPointer?
    ) {
        if let number = PhoneNumber(digits: field, readableFrom: readableStart) {
            self = number
        } else {
            rawValue = Self.alphanumericFlag | (ByteHash.hash(field) >> 1)
        }
    }

    public init?(_ text: String) {
        var text = text
        guard let value = text.withUTF8({ PhoneNumber(digits: UnsafeRawBufferPointer($0)) }) else {
            return nil
        }
        self = value
    }

    /// `true` for a number, `false` for a hashed non-numeric sender.
    public var isNumeric: Bool { rawValue & Self.alphanumericFlag == 0 }

    /// Orders as the printed numbers do (numbers before hashed senders).
    public static func < (lhs: PhoneNumber, rhs: PhoneNumber) -> Bool {
        guard lhs.isNumeric, rhs.isNumeric else {
            return lhs.isNumeric != rhs.isNumeric ? lhs.isNumeric : lhs.rawValue < rhs.rawValue
        }
        return PackedDigits.lexicographicallyPrecedes(lhs.rawValue, rhs.rawValue)
    }

    /// The digits, or `#` and the hash in hexadecimal for a non-numeric sender.
    public var description: String {
        guard isNumeric else { return "#" + String(rawValue & ~Self.alphanumericFlag, radix: 16) }
        return PackedDigits.string(rawValue)
    }

    public func write(into bytes: inout [UInt8]) {
        if isNumeric {
            PackedDigits.write(rawValue, into: &bytes)
        } else {
            bytes.append(contentsOf: description.utf8)
        }
    }
}

/// A fast, seedless 64-bit hash of a byte string: the same bytes hash the same in every
/// process, which keeps interning order and output deterministic.
enum ByteHash {
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let count = bytes.count
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: count)
        guard let base = bytes.baseAddress else { return finalize(state) }
        var index = 0
        while index + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            state = mix(state ^ word)
            index += 8
        }
        if index < count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while index < count {
                word |= UInt64(base.load(fromByteOffset: index, as: UInt8.self)) << shift
                shift += 8
                index += 1
            }
            state = mix(state ^ word)
        }
        return finalize(state)
    }

    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        let product = value &* 0xBF58_476D_1CE4_E5B9
        return product ^ (product >> 31)
    }

    @inline(__always)
    private static func finalize(_ value: UInt64) -> UInt64 {
        var state = value ^ (value >> 33)
        state = state &* 0xFF51_AFD7_ED55_8CCD
        return state ^ (state >> 33)
    }
}
