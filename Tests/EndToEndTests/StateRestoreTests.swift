import CDRTestSupport
import Foundation
import Testing

/// A `--state` file can only be continued from or refused (#13 rows 1-4 and 14).
///
/// Each test saves a real state part-way through the box fixture (its box tracked, its SIMs
/// hot), damages or forges one field (sealing forgeries with a correct checksum), and runs
/// the rest of the day on it: exit 65 with a message, never a signal or a hang.
struct StateRestoreTests {
    static let fixture = TestPaths.fixtures.appendingPathComponent("replay/box-one-cell")

    /// A scratch folder holding the fixture's first 399 records as `part.csv`, the rest as
    /// `rest.csv`, and the state a run over `part.csv` saved.
    struct Day {
        let folder: URL
        let state: URL
        let saved: SavedStateFile

        init() throws {
            folder = try makeScratchFolder()
            state = folder.appendingPathComponent("catpool.state")
            let lines = try String(
                contentsOf: StateRestoreTests.fixture.appendingPathComponent("input.csv"),
                encoding: .utf8
            ).split(separator: "\n").map(String.init)
            let part = lines.prefix(400).joined(separator: "\n") + "\n"
            let rest = ([lines[0]] + lines.dropFirst(400)).joined(separator: "\n") + "\n"
            try Data(part.utf8).write(to: folder.appendingPathComponent("part.csv"))
            try Data(rest.utf8).write(to: folder.appendingPathComponent("rest.csv"))
            let first = try Self.detect("part.csv", state: state, in: folder)
            guard first.status == 0 else { throw SavedStateFile.Unexpected(what: first.stderr) }
            saved = try SavedStateFile(contentsOf: state)
        }

        static func detect(_ input: String, state: URL, in folder: URL, _ extra: [String] = [])
            throws -> CommandResult
        {
            let cells = StateRestoreTests.fixture.appendingPathComponent("cells.csv").path
            return try CatPoolBinary.run(
                ["detect", "-q", "--cells", cells, "--state", state.path] + extra + [input],
                in: folder, timeout: 60)
        }

        /// Runs the rest of the day on `file` written as the state.
        func continueFrom(_ file: SavedStateFile, _ extra: [String] = []) throws
            -> CommandResult
        {
            try file.write(to: state)
            return try Self.detect("rest.csv", state: state, in: folder, extra)
        }
    }

    @Test func theUntouchedFileContinues() throws {
        let day = try Day()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        #expect(day.saved.trackedLocation != nil, "the box is tracked when the state is saved")
        #expect(day.saved.int(at: day.saved.hotCount) > 0, "its SIMs are hot")
        let result = try day.continueFrom(day.saved)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.isEmpty, "the box goes on")
    }

    /// A run under another state cap gives SIM numbers another width in the lookup slots:
    /// it continues the saved state as the first run would have.
    @Test func continuesUnderAnotherCap() throws {
        let day = try Day()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        let same = try day.continueFrom(day.saved)
        let smaller = try day.continueFrom(day.saved, ["--max-state-mb", "16"])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(smaller.status == 0, "\(smaller.stderr)")
        #expect(!same.stdout.isEmpty)
        #expect(smaller.stdout == same.stdout)
    }

    /// Row 1: a flipped top byte of the IMSI table's count trapped before the checksum was
    /// checked (with `--state-reset` too).
    @Test func refusesAFlippedCountBeforeBelievingIt() throws {
        let day = try Day()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        var damaged = day.saved
        damaged.bytes[damaged.imsiCount + 7] ^= 0xFF
        let refused = try day.continueFrom(damaged)
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("checksum mismatch"), "\(refused.stderr)")

        let reset = try day.continueFrom(damaged, ["--state-reset"])
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(reset.stderr.contains("set aside as"), "\(reset.stderr)")

        // The same count forged, with a correct checksum: refused by the size checks.
        damaged.seal()
        let forged = try day.continueFrom(damaged)
        #expect(forged.status == 65)
        #expect(forged.stderr.contains("malformed"), "\(forged.stderr)")
    }

    /// Row 2: IMSI table slots pointing past the SIM arrays (SIGSEGV), or at SIM -2.
    @Test(arguments: ["five past the last SIM", "SIM -2", "SIM Int32.max"])
    func refusesALookupSlotPastTheSIMs(target: String) throws {
        let day = try Day()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        var forged = day.saved
        let slot = try #require(forged.imsiSlotOffsets.first { forged.slot(at: $0) != .max })
        let number: Int32 =
            switch target {
            case "SIM -2": -2
            case "SIM Int32.max": .max
            default: Int32(forged.simCount) + 5
            }
        forged.set(UInt64(UInt32(bitPattern: number)), at: slot, width: 4)
        forged.seal()
        let result = try day.continueFrom(forged)
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("malformed: a lookup table's entries"), "\(result.stderr)")
    }

    /// Row 3: an IMSI table with no empty slot looped for ever on the first new SIM.
    @Test(arguments: [false, true])
    func refusesALookupTableWithNoEmptySlot(countsEverySlot: Bool) throws {
        let day = try Day()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        var forged = day.saved
        let slots = forged.imsiSlotOffsets
        let entry = try #require(slots.map { forged.slot(at: $0) }.first { $0 != .max })
        for slot in slots where forged.slot(at: slot) == .max {
            forged.set(UInt64(entry), at: slot, width: 4)
        }
        if countsEverySlot { forged.set(Int64(forged.imsiSlotCount), at: forged.imsiCount) }
        forged.seal()
        let result = try day.continueFrom(forged)
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("malformed: a "), "\(result.stderr)")
    }

    /// A field to forge and the value to forge it with.
    struct Forgery: CustomTestStringConvertible, Sendable {
        var name: String
        var apply: @Sendable (inout SavedStateFile) throws -> Void
        var testDescription: String { name }
    }

    static let forgeries: [Forgery] = [
        Forgery(name: "a tracked cluster at location 2e9") { file in
            file.set(2_000_000_000, at: try #require(file.trackedLocation))
        },
        Forgery(name: "a SIM's last cell 1e6") { file in
            file.set(1_000_000, at: file.history + SavedStateFile.lastCellOffset, width: 4)
        },
        Forgery(name: "a SIM at location 1e6") { file in
            file.set(1_000_000, at: file.history + SavedStateFile.locationOffset, width: 4)
        },
        Forgery(name: "the newest call at Int64.max") { file in
            file.set(.max, at: file.maxEventTime)
        },
        Forgery(name: "the newest call at Int64.min + 1") { file in
            file.set(.min + 1, at: file.maxEventTime)
        },
        Forgery(name: "the next window ending at Int64.max") { file in
            file.set(.max, at: file.maxEventTime + 8)
        },
        Forgery(name: "the newest record at Int64.max") { file in
            file.set(.max, at: file.newestTime)
        },
        Forgery(name: "the oldest record at Int64.min + 1") { file in
            file.set(.min + 1, at: file.newestTime + 8)
        },
        Forgery(name: "a window bucket at Int64.min + 1") { file in
            file.set(.min + 1, at: try #require(file.firstBucketNumber))
        },
        Forgery(name: "a window bucket of 2^30 calls") { file in
            // Found by the state fuzzer: the reader allocated 16 GB for it before reading.
            file.set(1 << 30, at: try #require(file.firstBucketNumber) + 8)
        },
        Forgery(name: "a site at latitude 1e19") { file in
            file.set(1e19.bitPattern, at: try #require(file.locationLatitude), width: 8)
        },
        Forgery(name: "2^40 hot SIMs") { file in
            file.set(1 << 40, at: file.hotCount)
        },
        Forgery(name: "IMSI slots with 0-bit SIM numbers") { file in
            file.set(0, at: file.imsiCount + 8)
        },
        Forgery(name: "IMSI slots with 40-bit SIM numbers") { file in
            file.set(40, at: file.imsiCount + 8)
        },
    ]

    /// Row 4: other forged fields trapped in preconditions and integer conversions.
    @Test(arguments: forgeries)
    func refusesAForgedField(_ forgery: Forgery) throws {
        let day = try Day()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        var forged = day.saved
        try forgery.apply(&forged)
        forged.seal()
        let result = try day.continueFrom(forged)
        #expect(result.status == 65, "\(result.stderr)")
        #expect(result.stderr.contains("cannot continue from state file"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// Row 14: the same run twice wrote state files 28,895 bytes apart (struct padding).
    @Test func identicalRunsWriteIdenticalStateFiles() throws {
        let day = try Day()
        defer { try? FileManager.default.removeItem(at: day.folder) }
        let again = day.folder.appendingPathComponent("again.state")
        let second = try Day.detect("part.csv", state: again, in: day.folder)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try Data(contentsOf: again) == Data(day.saved.bytes))
        // And after continuing: a restored state saves the same bytes as well.
        let copy = day.folder.appendingPathComponent("copy.state")
        try FileManager.default.copyItem(at: again, to: copy)
        for state in [again, copy] {
            #expect(try Day.detect("rest.csv", state: state, in: day.folder).status == 0)
        }
        #expect(try Data(contentsOf: again) == Data(contentsOf: copy))
    }
}
