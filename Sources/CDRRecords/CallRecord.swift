/// The kind of event a CDR line records.
public enum RecordType: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// Mobile-originated call: the SIM dialled `peer`.
    case moc
    /// Mobile-terminated call: `peer` called the SIM.
    case mtc
    /// SMS sent by the SIM.
    case smsMO
    /// SMS received by the SIM.
    case smsMT
    /// A data session.
    case data

    /// The name used in the `record_type` column and in statistics.
    public var description: String {
        switch self {
        case .moc: return "MOC"
        case .mtc: return "MTC"
        case .smsMO: return "SMS_MO"
        case .smsMT: return "SMS_MT"
        case .data: return "DATA"
        }
    }

    /// The type named `name` (`MOC`, `MTC`, `SMS_MO`, `SMS_MT`, `DATA`), case-insensitively.
    public init?(name: String) {
        guard let type = Self.allCases.first(where: { $0.description == name.uppercased() }) else {
            return nil
        }
        self = type
    }

    /// Reads a `record_type` field, case-insensitively; `nil` for any other type.
    @inline(__always)
    public init?(field: UnsafeRawBufferPointer) {
        let count = field.count
        guard count >= 3, count <= 6, let base = field.baseAddress else { return nil }
        // The field's bytes as one little-endian word, from two loads that overlap in the
        // middle (the bytes they share are equal, so OR keeps them).
        let word: UInt64
        if count >= 4 {
            let head = UInt32(littleEndian: base.loadUnaligned(as: UInt32.self))
            let tail = UInt32(
                littleEndian: base.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self))
            word = (UInt64(head) | UInt64(tail) &<< (8 &* UInt64(count &- 4))) & 0xDFDF_DFDF_DFDF
        } else {
            let head = UInt16(littleEndian: base.loadUnaligned(as: UInt16.self))
            let last = base.load(fromByteOffset: 2, as: UInt8.self)
            word = (UInt64(head) | UInt64(last) &<< 16) & 0xDF_DFDF
        }
        // The constants are the upper-case names, little-endian, under their length (a space
        // or NUL masks to 0, so the length tells "MOC" from "MOC "); `& 0xDF` upper-cases
        // ASCII letters and leaves `_` (0x5F) alone, but would also read DEL (0x7F) as `_`.
        let isUnderscore = count == 6 && base.load(fromByteOffset: 3, as: UInt8.self) == 0x5F
        switch word | UInt64(count) << 56 {
        case 3 << 56 | 0x43_4F_4D: self = .moc  // "MOC"
        case 3 << 56 | 0x43_54_4D: self = .mtc  // "MTC"
        case 6 << 56 | 0x4F_4D_5F_53_4D_53 where isUnderscore: self = .smsMO  // "SMS_MO"
        case 6 << 56 | 0x54_4D_5F_53_4D_53 where isUnderscore: self = .smsMT  // "SMS_MT"
        case 4 << 56 | 0x41_54_41_44: self = .data  // "DATA"
        default: return nil
        }
    }
}

/// A cell, interned: a dense integer standing for one cell token (see `CellInterner`).
public struct CellID: Hashable, Comparable, Sendable {
    public let rawValue: UInt32

    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// A cell that could not be interned: the interner was at its limit.
    ///
    /// Computed and inlinable, not a stored static: the pipeline tests every record against
    /// it, and another module reads a stored static through a once-only initialisation check.
    @inlinable public static var overflow: CellID { CellID(rawValue: .max) }

    public static func < (lhs: CellID, rhs: CellID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One parsed CDR line: plain values only, so parsing a record allocates nothing.
///
/// 56 bytes: the optional fields are stored as raw values with a value no field can take for
/// "none" (an IMEI or a packed number is never 0, a duration never negative), where four
/// `Optional`s took 88. A record is copied three times on its way to the detector (parsed,
/// batched, handed over), so a smaller one is less memory traffic on every line.
public struct CallRecord: Equatable, Sendable {
    public var eventTime: EventTime
    public var imsi: IMSI
    private var imeiRaw: UInt64
    private var msisdnRaw: UInt64
    private var peerRaw: UInt64
    private var durationRaw: Int32
    public var cell: CellID
    public var type: RecordType

    private static let noDuration = Int32.min

    /// The handset, when the switch reported one (an all-zero IMEI counts as unknown).
    public var imei: IMEI? {
        @inline(__always) get { imeiRaw == 0 ? nil : IMEI(uncheckedRawValue: imeiRaw) }
        @inline(__always) set { imeiRaw = newValue?.rawValue ?? 0 }
    }
    /// The SIM's own number, when reported.
    public var msisdn: PhoneNumber? {
        @inline(__always) get { msisdnRaw == 0 ? nil : PhoneNumber(rawValue: msisdnRaw) }
        @inline(__always) set { msisdnRaw = newValue?.rawValue ?? 0 }
    }
    /// The other party: callee of a MOC, caller of a MTC.
    public var peer: PhoneNumber? {
        @inline(__always) get { peerRaw == 0 ? nil : PhoneNumber(rawValue: peerRaw) }
        @inline(__always) set { peerRaw = newValue?.rawValue ?? 0 }
    }
    /// Call duration in whole seconds (0 = not answered); `nil` when not reported.
    public var durationSeconds: Int32? {
        @inline(__always) get { durationRaw == Self.noDuration ? nil : durationRaw }
        @inline(__always) set {
            durationRaw = newValue.map { max($0, Self.noDuration + 1) } ?? Self.noDuration
        }
    }

    public init(
        eventTime: EventTime, type: RecordType, imsi: IMSI, imei: IMEI? = nil,
        msisdn: PhoneNumber? = nil, peer: PhoneNumber? = nil, durationSeconds: Int32? = nil,
        cell: CellID
    ) {
        self.eventTime = eventTime
        self.type = type
        self.imsi = imsi
        imeiRaw = imei?.rawValue ?? 0
        msisdnRaw = msisdn?.rawValue ?? 0
        peerRaw = peer?.rawValue ?? 0
        durationRaw = durationSeconds.map { max($0, Self.noDuration + 1) } ?? Self.noDuration
        self.cell = cell
    }

    /// A blank record for a parser to fill in place.
    public static let placeholder = CallRecord(
        eventTime: EventTime(millisecondsSinceEpoch: 0), type: .moc,
        imsi: IMSI(uncheckedRawValue: 1_000_000), cell: CellID(rawValue: 0))
}
