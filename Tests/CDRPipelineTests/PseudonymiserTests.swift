import CDRPipeline
import CDRRecords
import CDRSimulation
import Foundation
import Testing

struct PseudonymiserTests {
    /// RFC 4231 test cases 6 and 7 (a 131-byte key of 0xaa), cut to the pseudonym's 12 bytes:
    /// swift-crypto's HMAC is used as HMAC-SHA256, keyed with every byte given.
    @Test(arguments: [
        (
            "Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        ),
        (
            "This is a test using a larger than block-size key and a larger than block-size "
                + "data. The key needs to be hashed before being used by the HMAC algorithm.",
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        ),
    ])
    func matchesTheRFC4231Vectors(message: String, mac: String) throws {
        let pseudonymiser = try Pseudonymiser(key: [UInt8](repeating: 0xAA, count: 131))
        #expect(pseudonymiser.pseudonym(of: message) == String(mac.prefix(24)))
    }

    @Test func refusesAKeyUnder32BytesAndNeverShowsIt() throws {
        #expect(throws: Pseudonymiser.ShortKey(count: 31)) {
            try Pseudonymiser(key: [UInt8](repeating: 0x41, count: 31))
        }
        let key = Array("0123456789abcdefghijklmnopqrstuv".utf8)
        let pseudonymiser = try Pseudonymiser(key: key)
        #expect(!"\(pseudonymiser)".contains("0123456789"))
        #expect(!String(reflecting: pseudonymiser).contains("0123456789"))
        // Another key, another pseudonym; the same key, the same one.
        let other = try Pseudonymiser(key: key + [0x0A])
        #expect(
            pseudonymiser.pseudonym(of: "460011853229132") != other.pseudonym(of: "460011853229132")
        )
        #expect(
            pseudonymiser.pseudonym(of: "460011853229132")
                == (try Pseudonymiser(key: key)).pseudonym(of: "460011853229132"))
    }

    /// The byte loop against the obvious version (split into digit and other runs) on
    /// random texts of digits, `+`, letters, spaces and multi-byte characters.
    @Test func redactsDigitRunsAsASplitDoes() throws {
        let pseudonymiser = try Pseudonymiser(key: [UInt8](repeating: 7, count: 32))
        var random = SimulationRandom(seed: 14)
        let alphabet: [String] = ["1", "2", "0", "9", "5", "+", "a", " ", ",", "猫", "\u{0}"]
        for _ in 0..<500 {
            let text = (0..<random.int(0..<41)).map { _ in
                random.int(0..<4) == 0
                    ? alphabet[random.int(5..<alphabet.count)] : alphabet[random.int(0..<5)]
            }.joined()
            #expect(pseudonymiser.redactingDigitRuns(text) == oracle(text, pseudonymiser))
        }
        #expect(pseudonymiser.redactingDigitRuns("12345 x") == "12345 x")
        let run = pseudonymiser.pseudonym(of: "8613800000000")
        #expect(pseudonymiser.redactingDigitRuns("+8613800000000,") == "+\(run),")
        #expect(pseudonymiser.redactingDigitRuns("") == "")
    }

    private func oracle(_ text: String, _ pseudonymiser: Pseudonymiser) -> String {
        var result = ""
        var run = ""
        for character in text + "." {
            if let ascii = character.asciiValue, (0x30...0x39).contains(ascii) {
                run.append(character)
                continue
            }
            result += run.count >= 6 ? pseudonymiser.pseudonym(of: run) : run
            run = ""
            result.append(character)
        }
        return String(result.dropLast())
    }

    /// Rejected lines through the pipeline: `text` and `detail` redacted, the rest as without
    /// the option; the descriptions for stderr and the `--strict` error too.
    @Test func redactsRejectedLinesAndTheirDescriptions() throws {
        let pseudonymiser = try Pseudonymiser(key: [UInt8](repeating: 9, count: 40))
        let dump = Array(
            """
            event_time,record_type,imsi,imei,msisdn,cell
            2026-11-20T01:00:00Z,MOC,460011853229132,3569380338x2078,+8617000000049,c1
            2026-11-20T01:00:01Z,MOC,4600118532291320000,,,c1
            2026-11-20T01:00:02Z,MOC,460011853229132,,,c1,extra

            """.utf8)
        var configuration = PipelineConfiguration(collectsRejects: true)
        let plain = try PipelineTests.run([("day.csv", dump)], configuration: configuration)
        configuration.pseudonymiser = pseudonymiser
        let redacted = try PipelineTests.run([("day.csv", dump)], configuration: configuration)
        let plainRejects = try PipelineTests.rejectLines(plain.output)
        let redactedRejects = try PipelineTests.rejectLines(redacted.output)
        #expect(plainRejects.count == 3)
        #expect(plainRejects.map(\.line) == redactedRejects.map(\.line))
        #expect(plainRejects.map(\.reason) == redactedRejects.map(\.reason))
        #expect(
            redactedRejects.map(\.text)
                == plainRejects.map { pseudonymiser.redactingDigitRuns($0.text) })
        let output =
            String(decoding: redacted.output.rejects, as: UTF8.self)
            + redacted.output.warnings.map { "\($0)" }.joined(separator: "\n")
        for identifier in ["460011853229132", "3569380338", "8617000000049", "4600118532291320000"]
        {
            #expect(!output.contains(identifier))
            #expect(String(decoding: plain.output.rejects, as: UTF8.self).contains(identifier))
        }
        #expect(output.contains(pseudonymiser.pseudonym(of: "3569380338")))
        guard case .rejectedLine("day.csv", 2, let error) = redacted.output.warnings.first else {
            Issue.record("the first reject is described: \(redacted.output.warnings)")
            return
        }
        #expect(error.reason == .badIMEI)

        configuration.isStrict = true
        #expect(
            throws: PipelineError.strictReject(
                input: "day.csv", line: 2,
                .badIdentifier(.imei, pseudonymiser.pseudonym(of: "3569380338") + "x2078"))
        ) {
            try PipelineTests.run([("day.csv", dump)], configuration: configuration)
        }
    }
}
