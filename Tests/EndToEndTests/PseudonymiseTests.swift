import CDRTestSupport
import Foundation
import Testing

/// `--pseudonymise` and `catpool pseudonym` through the binary (#14), against Python's `hmac`
/// as the independent reference.
struct PseudonymiseTests {
    /// A simulated day with broken lines, run with and without the option: no identifier of
    /// the input is left in any output of the pseudonymised run, and its decisions and
    /// rejects are the plain run's with each identifier mapped through Python's HMAC.
    @Test func leavesNoIdentifierAndChangesNothingElse() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        let simulate = try CatPoolBinary.run([
            "simulate", "--seed", "14", "--subscribers", "5000", "--hours", "6", "--bad-rate",
            "0.001", "--format", "csv", "--out", path("day.csv"), "--cells", path("cells.csv"),
        ])
        try #require(simulate.status == 0, "\(simulate.stderr)")
        // The simulator breaks lines by their field count; break a few identifiers too, early
        // enough to be among the rejects described on stderr, so messages quote them.
        try breakingIdentifiers(of: path("day.csv"))
        let key = try makeKey(in: folder)
        var runs: [String: [String: String]] = [:]
        for variant in ["plain", "pseudonymised"] {
            let option = variant == "plain" ? [] : ["--pseudonymise", key.path]
            let detect = try CatPoolBinary.run(
                ["detect", "--cells", path("cells.csv")] + option + [
                    "--rejects", path("\(variant).rejects"), "--stats", path("\(variant).stats"),
                    "--metrics-file", path("\(variant).prom"), path("day.csv"),
                ])
            try #require(detect.status == 0, "\(detect.stderr)")
            let check = try CatPoolBinary.run(
                ["check"] + option + ["--rejects", "-", "--stats", "-", path("day.csv")])
            try #require(check.status == 0, "\(check.stderr)")
            runs[variant] = [
                "stdout": detect.stdout, "stderr": detect.stderr,
                "rejects": try String(contentsOfFile: path("\(variant).rejects"), encoding: .utf8),
                "stats": try String(contentsOfFile: path("\(variant).stats"), encoding: .utf8),
                "metrics": try String(contentsOfFile: path("\(variant).prom"), encoding: .utf8),
                "check stdout": check.stdout, "check stderr": check.stderr,
            ]
        }
        let plain = try #require(runs["plain"])
        let pseudonymised = try #require(runs["pseudonymised"])

        // Every identifier of the input, as written there and as catpool normalises it.
        let identifiers = try inputIdentifiers(
            of: String(contentsOfFile: path("day.csv"), encoding: .utf8))
        #expect(identifiers.count > 10_000)
        for (name, text) in plain
        where ["stdout", "rejects", "stderr", "check stdout"].contains(name) {
            #expect(!leaks(text, identifiers).isEmpty, "the plain \(name) shows identifiers")
        }
        for (name, text) in pseudonymised {
            let leaked = leaks(text, identifiers)
            #expect(leaked.isEmpty, "\(name) leaks \(leaked.prefix(3))")
        }

        // Decisions: the same after mapping each identifier of the plain run.
        let plainDecisions = try jsonLines(plain["stdout"] ?? "")
        let pseudonymisedDecisions = try jsonLines(pseudonymised["stdout"] ?? "")
        #expect(plainDecisions.count > 20)
        #expect(plainDecisions.count == pseudonymisedDecisions.count)
        var decisionIDs: Set<String> = []
        for decision in plainDecisions {
            for key in ["sims", "msisdns", "imeis"] {
                decisionIDs.formUnion(decision[key] as? [String] ?? [])
            }
        }
        let plainRejects = try jsonLines(plain["rejects"] ?? "")
        let pseudonymisedRejects = try jsonLines(pseudonymised["rejects"] ?? "")
        #expect(plainRejects.count >= 5)
        let reasons = Set(plainRejects.compactMap { $0["reason"] as? String })
        #expect(reasons.isSuperset(of: ["bad_imsi", "bad_imei", "bad_msisdn", "field_count"]))
        let texts = plainRejects.flatMap {
            [$0["text"] as? String ?? "", $0["detail"] as? String ?? ""]
        }
        let reference = try PythonHMAC.reference(
            key: key, identifiers: decisionIDs.sorted(), texts: texts)
        for (plain, pseudonymised) in zip(plainDecisions, pseudonymisedDecisions) {
            let mapped = try canonical(mapping(plain, reference.pseudonyms))
            #expect(mapped == (try canonical(pseudonymised)))
            // Arrays come sorted by pseudonym, not in the raw order.
            for key in ["sims", "msisdns", "imeis"] {
                let values = pseudonymised[key] as? [String] ?? []
                #expect(values == values.sorted())
                #expect(values.allSatisfy { $0.utf8.count == 24 })
            }
        }

        // Rejects: input, line and reason kept; text and detail redacted as Python does.
        #expect(plainRejects.count == pseudonymisedRejects.count)
        for (index, (plain, pseudonymised)) in zip(plainRejects, pseudonymisedRejects)
            .enumerated()
        {
            for key in ["input", "line", "reason"] {
                #expect("\(plain[key] ?? "")" == "\(pseudonymised[key] ?? "")")
            }
            #expect(pseudonymised["text"] as? String == reference.texts[2 * index])
            #expect(pseudonymised["detail"] as? String == reference.texts[2 * index + 1])
        }
        // Statistics hold no identifier: the same but for the run time and the detector's
        // peak state, which is sampled between chunks and so follows the threads' timing.
        func withoutTime(_ stats: String) -> String {
            withoutThreads(stats).replacingOccurrences(
                of: #""seconds":[0-9.]+"#, with: "", options: .regularExpression
            ).replacingOccurrences(
                of: #""detector_state":\{[^}]*\}"#, with: "", options: .regularExpression)
        }
        #expect(withoutTime(plain["stats"] ?? "") == withoutTime(pseudonymised["stats"] ?? ""))
        #expect(pseudonymised["stderr"]?.contains("further rejected lines") == true)
    }

    @Test(arguments: [0o640, 0o604, 0o620, 0o644, 0o660])
    func refusesAKeyOpenToGroupOrOthers(mode: Int) throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = try makeKey(in: folder, mode: mode)
        let secret = try String(contentsOf: key, encoding: .utf8)
        let input = Array("event_time,record_type,imsi,cell\n".utf8)
        for arguments in [
            ["detect", "--pseudonymise", key.path], ["check", "--pseudonymise", key.path],
            ["pseudonym", "--key", key.path, "460011853229132"],
        ] {
            let result = try CatPoolBinary.run(arguments, stdinBytes: input)
            #expect(result.status == 77, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("chmod 600 \(key.path)"))
            #expect(result.stdout.isEmpty)
            #expect(!result.stderr.contains(secret))
        }
    }

    /// Evidence stays verbatim (the restricted case file): said on stderr, and its lines are
    /// the input's, while the decisions are pseudonymised.
    @Test func warnsThatEvidenceStaysVerbatim() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = try makeKey(in: folder)
        let fixture = TestPaths.fixtures.appendingPathComponent("replay/box-one-cell")
        let evidence = folder.appendingPathComponent("evidence.jsonl")
        let result = try CatPoolBinary.run([
            "detect", "-q", "--pseudonymise", key.path, "--evidence", evidence.path,
            "--cells", fixture.appendingPathComponent("cells.csv").path,
            fixture.appendingPathComponent("input.csv.zst").path,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("--evidence \(evidence.path) keeps its input lines verbatim"))
        #expect(!result.stdout.contains("46001"), "decisions carry pseudonyms only")
        let lines = try String(contentsOf: evidence, encoding: .utf8)
        #expect(lines.contains("\"text\":\"2026-11-20T"), "evidence carries the raw lines")
        #expect(lines.contains("46001"))
    }

    /// `report --pseudonymise`: the page shows pseudonyms where the decisions and evidence
    /// held identifiers, the same as `catpool pseudonym` gives, and no identifier at all.
    @Test func reportShowsPseudonymsOnly() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = try makeKey(in: folder)
        let fixture = TestPaths.fixtures.appendingPathComponent("replay/box-one-cell")
        let evidence = folder.appendingPathComponent("evidence.jsonl")
        let decisions = folder.appendingPathComponent("decisions.jsonl")
        let detect = try CatPoolBinary.run([
            "detect", "-q", "--evidence", evidence.path,
            "--cells", fixture.appendingPathComponent("cells.csv").path,
            fixture.appendingPathComponent("input.csv.zst").path,
        ])
        #expect(detect.status == 0, "\(detect.stderr)")
        try Data(detect.stdout.utf8).write(to: decisions)
        let imsi = "460010000000000"
        #expect(detect.stdout.contains(imsi))
        let report = try CatPoolBinary.run([
            "report", "--pseudonymise", key.path, "--evidence", evidence.path, decisions.path,
        ])
        #expect(report.status == 0, "\(report.stderr)")
        let pseudonym = try CatPoolBinary.run(["pseudonym", "--key", key.path, imsi])
        let expected = try #require(pseudonym.stdout.split(separator: "\t").last)
        #expect(report.stdout.contains(expected.trimmingCharacters(in: .newlines)))
        // No identifier of the decisions or the evidence lines appears anywhere in the page.
        let raw = detect.stdout + (try String(contentsOf: evidence, encoding: .utf8))
        let identifiers = Set(
            raw.matches(of: /[0-9]{10,}/).map { String($0.output) })
        #expect(identifiers.count > 20)
        for identifier in identifiers {
            #expect(!report.stdout.contains(identifier), "\(identifier)")
        }
        let plain = try CatPoolBinary.run(["report", "--evidence", evidence.path, decisions.path])
        #expect(plain.stdout.contains(imsi), "without the option the page shows the IMSIs")
    }

    @Test func acceptsAPrivateKeyAndRefusesAShortOrMissingOne() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = Array("event_time,record_type,imsi,cell\n".utf8)
        for mode in [0o600, 0o400] {
            let key = try makeKey(in: folder, mode: mode)
            let result = try CatPoolBinary.run(
                ["check", "-q", "--pseudonymise", key.path], stdinBytes: input)
            #expect(result.status == 0, "\(result.stderr)")
            try FileManager.default.removeItem(at: key)
        }
        let short = try makeKey(in: folder, bytes: 31)
        let refused = try CatPoolBinary.run(
            ["detect", "--pseudonymise", short.path], stdinBytes: input)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("31 bytes; at least 32"))
        #expect(!refused.stderr.contains(try String(contentsOf: short, encoding: .utf8)))
        let missing = try CatPoolBinary.run(
            ["detect", "--pseudonymise", folder.appendingPathComponent("nope").path],
            stdinBytes: input)
        #expect(missing.status == 74)
        // Neither read as an input nor written over by an output.
        let key = try makeKey(in: folder)
        let asInput = try CatPoolBinary.run(["check", "--pseudonymise", key.path, key.path])
        #expect(asInput.status == 64)
        let overwritten = try CatPoolBinary.run(
            ["check", "--pseudonymise", key.path, "--stats", key.path], stdinBytes: input)
        #expect(overwritten.status == 64)
        #expect(try String(contentsOf: key, encoding: .utf8).utf8.count == 40)
    }

    /// `--strict` and an unusable header describe the line with its identifiers redacted.
    @Test func redactsIdentifiersInMessagesAboutLines() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = try makeKey(in: folder)
        let badIMEI = Array(
            "event_time,record_type,imsi,imei,cell\n2026-11-20T01:00:00Z,MOC,460011853229132,35693803388x2078,c1\n"
                .utf8)
        let strict = try CatPoolBinary.run(
            ["check", "--strict", "--pseudonymise", key.path], stdinBytes: badIMEI)
        #expect(strict.status == 65)
        let headerless = Array("2026-11-20T01:00:00Z,MOC,460011853229132,c1\n".utf8)
        let header = try CatPoolBinary.run(
            ["check", "--pseudonymise", key.path], stdinBytes: headerless)
        #expect(header.status == 65)
        let pseudonyms = try PythonHMAC.reference(
            key: key, identifiers: ["460011853229132", "35693803388"], texts: []
        ).pseudonyms
        for (result, shown) in [(strict, "35693803388"), (header, "460011853229132")] {
            #expect(!result.stderr.contains(shown), "\(result.stderr)")
            #expect(result.stderr.contains(pseudonyms[shown] ?? "-"), "\(result.stderr)")
        }
        #expect(!header.stderr.contains("460011853229132"))
    }

    @Test func pseudonymCommandMatchesPythonHMAC() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let key = try makeKey(in: folder)
        let identifiers = ["460011853229132", "8617000000049", "356938033882078", "0", "000123"]
        let reference = try PythonHMAC.reference(key: key, identifiers: identifiers, texts: [])
        let expected = identifiers.map { "\($0)\t\(reference.pseudonyms[$0] ?? "-")\n" }.joined()
        let named = try CatPoolBinary.run(["pseudonym", "--key", key.path] + identifiers)
        #expect(named.status == 0, "\(named.stderr)")
        #expect(named.stdout == expected)
        let piped = try CatPoolBinary.run(
            ["pseudonym", "--key", key.path],
            stdinBytes: Array((identifiers.joined(separator: "\r\n") + "\n\n").utf8))
        #expect(piped.stdout == expected)
        let badLine = try CatPoolBinary.run(
            ["pseudonym", "--key", key.path], stdinBytes: Array("0\n+86170\n".utf8))
        #expect(badLine.status == 64)
        #expect(badLine.stdout == "0\t\(reference.pseudonyms["0"] ?? "-")\n")
        #expect(badLine.stderr.contains("stdin:2: '+86170'"))
        for bad in ["+8617000000049", "86 17", "BANK", ""] {
            let refused = try CatPoolBinary.run(["pseudonym", "--key", key.path, bad])
            #expect(refused.status == 64, "\(bad)")
        }
    }

    // MARK: - Helpers

    /// A key file of `bytes` random letters (printable, so a test can look for it in text).
    private func makeKey(in folder: URL, bytes: Int = 40, mode: Int = 0o600) throws -> URL {
        let url = folder.appendingPathComponent("key-\(UUID().uuidString)")
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        let key = (0..<bytes).map { _ in letters.randomElement() ?? 0x61 }
        #expect(
            FileManager.default.createFile(
                atPath: url.path, contents: Data(key), attributes: [.posixPermissions: mode]))
        return url
    }

    /// Breaks the IMSI, IMEI or MSISDN of every fourth line from line 4 to 48 (in turn).
    private func breakingIdentifiers(of path: String) throws {
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false
        ).map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        let columns = try ["imsi", "imei", "msisdn"].map { try #require(header.firstIndex(of: $0)) }
        for (turn, index) in stride(from: 3, to: 48, by: 4).enumerated() {
            var fields = lines[index].split(separator: ",", omittingEmptySubsequences: false)
                .map(String.init)
            let column = columns[turn % 3]
            guard fields.count == header.count, fields[column].count > 8 else { continue }
            switch turn % 3 {
            case 0: fields[column] += "0000"  // 19 digits
            case 1:
                fields[column].insert(
                    "x", at: fields[column].index(fields[column].startIndex, offsetBy: 7))
            default: fields[column] += "#"
            }
            lines[index] = fields.joined(separator: ",")
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Every maximal run of 6 or more digits on the data lines, plus each IMEI column's
    /// 15-digit form (check digit recomputed), as catpool writes IMEIs read as 14 or 16.
    private func inputIdentifiers(of csv: String) throws -> Set<String> {
        var lines = csv.split(separator: "\n")
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false)
        let imeiColumn = try #require(header.firstIndex(of: "imei"))
        var identifiers: Set<String> = []
        for line in lines {
            identifiers.formUnion(digitRuns(in: line).filter { $0.count >= 6 })
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.count == header.count, (14...16).contains(fields[imeiColumn].count),
                fields[imeiColumn].allSatisfy(\.isASCII), fields[imeiColumn].allSatisfy(\.isNumber)
            {
                let body = fields[imeiColumn].prefix(14).compactMap { $0.wholeNumberValue }
                identifiers.insert(body.map(String.init).joined() + String(luhnDigit(body)))
            }
        }
        return identifiers
    }

    private func luhnDigit(_ digits: [Int]) -> Int {
        var sum = 0
        for (index, digit) in digits.reversed().enumerated() {
            let doubled = index % 2 == 0 ? digit * 2 : digit
            sum += doubled > 9 ? doubled - 9 : doubled
        }
        return (10 - sum % 10) % 10
    }

    private func digitRuns(in text: some StringProtocol) -> [String] {
        String(text).split(whereSeparator: { !("0"..."9").contains($0) }).map(String.init)
    }

    /// The identifiers that `text` shows: as a whole digit run, or, for those of 11 digits
    /// or more, anywhere in a longer run.
    private func leaks(_ text: String, _ identifiers: Set<String>) -> [String] {
        let runs = digitRuns(in: text)
        let whole = runs.filter { identifiers.contains($0) }
        let inside = runs.filter { $0.count > 11 && !identifiers.contains($0) }.flatMap {
            run -> [String] in
            let digits = Array(run)
            return (0...digits.count - 11).flatMap { start in
                (start + 11..<digits.count + 1).map { String(digits[start..<$0]) }
            }.filter { identifiers.contains($0) }
        }
        return whole + inside
    }

    private func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// `decision` with every identifier replaced through `pseudonyms`.
    private func mapping(_ decision: [String: Any], _ pseudonyms: [String: String]) throws
        -> [String: Any]
    {
        func map(_ value: Any?) throws -> [String] {
            try (value as? [String] ?? []).map { try #require(pseudonyms[$0]) }
        }
        var mapped = decision
        for key in ["sims", "msisdns", "imeis"] { mapped[key] = try map(decision[key]) }
        mapped["devices"] = try (decision["devices"] as? [[String: Any]] ?? []).map {
            ["imeis": try map($0["imeis"]), "sims": try map($0["sims"])]
        }
        return mapped
    }

    /// `decision` as sorted-key JSON with its identifier arrays and devices sorted.
    private func canonical(_ decision: [String: Any]) throws -> String {
        var sorted = decision
        for key in ["sims", "msisdns", "imeis"] {
            sorted[key] = (decision[key] as? [String] ?? []).sorted()
        }
        let devices = (decision["devices"] as? [[String: Any]] ?? []).map {
            [
                "imeis": ($0["imeis"] as? [String] ?? []).sorted(),
                "sims": ($0["sims"] as? [String] ?? []).sorted(),
            ]
        }
        sorted["devices"] = devices.sorted { $0["sims"]?.first ?? "" < $1["sims"]?.first ?? "" }
        let data = try JSONSerialization.data(withJSONObject: sorted, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

/// The pseudonyms and redactions as Python's standard library computes them: the reference
/// that `Pseudonymiser` (swift-crypto) is tested against.
enum PythonHMAC {
    struct Reference {
        /// Identifier → its pseudonym.
        var pseudonyms: [String: String]
        /// Each text with every run of 6 or more ASCII digits replaced by its pseudonym.
        var texts: [String]
    }

    static let script = """
        import hmac, hashlib, json, re, sys
        key = open(sys.argv[1], "rb").read()
        def p(s):
            return hmac.new(key, s.encode(), hashlib.sha256).hexdigest()[:24]
        request = json.load(sys.stdin)
        json.dump({
            "pseudonyms": {i: p(i) for i in request["identifiers"]},
            "texts": [re.sub(r"[0-9]{6,}", lambda m: p(m.group(0)), t) for t in request["texts"]],
        }, sys.stdout)
        """

    static func reference(key: URL, identifiers: [String], texts: [String]) throws -> Reference {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let request = folder.appendingPathComponent("request.json")
        let response = folder.appendingPathComponent("response.json")
        try JSONSerialization.data(withJSONObject: ["identifiers": identifiers, "texts": texts])
            .write(to: request)
        _ = FileManager.default.createFile(atPath: response.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, key.path]
        process.standardInput = try FileHandle(forReadingFrom: request)
        process.standardOutput = try FileHandle(forWritingTo: response)
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 failed")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: response)) as? [String: Any])
        return Reference(
            pseudonyms: try #require(object["pseudonyms"] as? [String: String]),
            texts: try #require(object["texts"] as? [String]))
    }
}
