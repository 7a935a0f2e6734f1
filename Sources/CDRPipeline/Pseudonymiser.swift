import Crypto

/// Replaces subscriber identifiers by keyed pseudonyms in what catpool writes (`--pseudonymise`,
/// #14).
///
/// A pseudonym is the first 12 bytes of HMAC-SHA256, keyed with the key's bytes, over the
/// identifier's digits exactly as catpool writes them without the option (an IMSI's digits,
/// an MSISDN without `+`, an IMEI's 15 digits with the check digit recomputed), in lowercase
/// hex: 24 characters. The same identifier gets the same pseudonym in every field and every
/// run with the same key, so clusters can be joined across nights and tools; only the key's
/// holder can link a pseudonym back (`catpool pseudonym`).
///
/// The pseudonymiser sits on the output side only: the detector sees raw identifiers, so its
/// decisions, scores and cluster ids are the same with or without it, and `--state` keeps
/// raw identifiers. It is built by the executable from the key file's bytes and does no I/O;
/// the key is never written anywhere, and `description` does not show it.
///
/// Cost: one HMAC per identifier written (with the JSON around it, about 15,000 instructions,
/// measured with callgrind), paid per decision and per rejected line, never per record.
public struct Pseudonymiser: Sendable, CustomStringConvertible {
    /// The shortest key accepted, in bytes: the HMAC-SHA256 block is 64, its output 32.
    public static let minimumKeyBytes = 32
    /// The bytes of HMAC output kept: 96 bits, no collision expected below 10^14 identifiers.
    public static let pseudonymBytes = 12
    /// Runs of at least this many digits in raw text are taken for identifiers (the shortest
    /// IMSI has 6).
    public static let minimumDigitRun = 6

    /// HMAC keyed once: each pseudonym continues a copy of it, so the key's two padded blocks
    /// are hashed once per run, not once per identifier (they were 45 % of the cost, measured
    /// with callgrind on a simulated day).
    private let keyed: HMAC<SHA256>

    /// A key shorter than `minimumKeyBytes`.
    public struct ShortKey: Error, Equatable, CustomStringConvertible {
        /// How many bytes the key had.
        public let count: Int

        public init(count: Int) { self.count = count }

        public var description: String {
            "the key has \(count) bytes; at least \(Pseudonymiser.minimumKeyBytes) are needed "
                + "(make one with: head -c 32 /dev/urandom > KEYFILE; chmod 600 KEYFILE)"
        }
    }

    /// - Parameter key: every byte of the key file, a trailing newline included.
    /// - Throws: `ShortKey` when `key` has fewer than `minimumKeyBytes` bytes.
    public init(key: [UInt8]) throws(ShortKey) {
        guard key.count >= Self.minimumKeyBytes else { throw ShortKey(count: key.count) }
        keyed = HMAC<SHA256>(key: SymmetricKey(data: key))
    }

    /// Never shows the key.
    public var description: String { "Pseudonymiser(HMAC-SHA256, key withheld)" }

    /// The pseudonym of `identifier`: 24 lowercase hex characters.
    public func pseudonym(of identifier: String) -> String {
        var identifier = identifier
        return identifier.withUTF8 { pseudonym(ofBytes: UnsafeRawBufferPointer($0)) }
    }

    /// The pseudonym of the bytes `identifier`, as UTF-8 text.
    public func pseudonym(ofBytes identifier: UnsafeRawBufferPointer) -> String {
        String(decoding: pseudonymBytes(of: identifier), as: UTF8.self)
    }

    private func pseudonymBytes(of identifier: UnsafeRawBufferPointer) -> [UInt8] {
        var mac = keyed
        mac.update(data: identifier)
        let code = mac.finalize()
        var hex: [UInt8] = []
        hex.reserveCapacity(Self.pseudonymBytes * 2)
        for byte in code.prefix(Self.pseudonymBytes) {
            hex.append(Self.hexDigits[Int(byte >> 4)])
            hex.append(Self.hexDigits[Int(byte & 0xF)])
        }
        return hex
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    // MARK: - Raw text

    /// `text` with every run of `minimumDigitRun` or more ASCII digits replaced by the
    /// run's pseudonym; shorter runs and every other byte are kept.
    ///
    /// Used for what catpool quotes from the input (a rejected line, a field in a message):
    /// an identifier there is written as the input had it, so `+8613800000000` keeps its `+`
    /// and becomes `+` and the pseudonym of `8613800000000`, and a 16-digit IMEISV's
    /// pseudonym differs from that of the 15-digit IMEI a decision shows.
    ///
    /// - Complexity: O(n), plus one HMAC per run replaced.
    public func redactingDigitRuns(_ text: UnsafeRawBufferPointer) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var runStart = 0
        func endRun(at end: Int) {
            let run = UnsafeRawBufferPointer(rebasing: text[runStart..<end])
            if run.count >= Self.minimumDigitRun {
                result.append(contentsOf: pseudonymBytes(of: run))
            } else {
                result.append(contentsOf: run)
            }
        }
        for (index, byte) in text.enumerated() where byte &- 0x30 >= 10 {
            endRun(at: index)
            result.append(byte)
            runStart = index + 1
        }
        endRun(at: text.count)
        return result
    }

    /// `text` with every run of 6 or more digits replaced by its pseudonym (see the bytes
    /// form).
    public func redactingDigitRuns(_ text: String) -> String {
        var text = text
        return text.withUTF8 {
            String(decoding: redactingDigitRuns(UnsafeRawBufferPointer($0)), as: UTF8.self)
        }
    }
}
