import CDRTestSupport
import Foundation
import Testing

/// What surrounds a `--state` file (#13 rows 11, 13, 15, 16).
///
/// Its lock, the temporaries of dead runs, a damaged file set aside, and a device refused.
/// Every run has a timeout.
struct StateFileGuardTests {
    static let fixture = TestPaths.fixtures.appendingPathComponent("replay/box-one-cell")
    static var input: String { fixture.appendingPathComponent("input.csv.zst").path }

    @Test func aSecondRunOnAHeldStateStopsAtOnceWith75() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let state = folder.appendingPathComponent("catpool.state").path
        // flock(1) holds STATE.lock, as a run in progress does, while catpool starts.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["\(state).lock", "sleep", "30"]
        try holder.run()
        defer { holder.terminate() }
        var waited = 0
        while !FileManager.default.fileExists(atPath: "\(state).lock"), waited < 500 {
            usleep(10_000)
            waited += 1
        }
        usleep(100_000)
        let started = Date()
        let result = try CatPoolBinary.run(["-q", "--state", state, Self.input], timeout: 20)
        #expect(result.status == 75)
        #expect(
            result.stderr.contains("--state \(state) is in use: another run holds \(state).lock"))
        #expect(Date().timeIntervalSince(started) < 10, "it must not wait for the lock")
        #expect(!FileManager.default.fileExists(atPath: state), "nothing saved")
    }

    @Test func removesTheTemporaryFilesOfRunsThatDiedWhileSaving() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let state = folder.appendingPathComponent("catpool.state").path
        let metrics = folder.appendingPathComponent("catpool.prom").path
        // No process has pid 2^22 + 1 (above Linux's pid_max); pid 1 is alive.
        let dead = ["\(state).tmp-4194305", "\(metrics).tmp-4194305"]
        let alive = "\(state).tmp-1"
        for path in dead + [alive] {
            #expect(FileManager.default.createFile(atPath: path, contents: Data("half".utf8)))
        }
        let result = try CatPoolBinary.run(
            ["-q", "--state", state, "--metrics-file", metrics, Self.input], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        for path in dead {
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(result.stderr.contains("removed \(path)"))
        }
        #expect(FileManager.default.fileExists(atPath: alive), "a live process's file stays")
        #expect(FileManager.default.fileExists(atPath: state))
    }

    @Test func stateResetKeepsTheDamagedFileUnderANewName() throws {
        let folder = try makeScratchFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let state = folder.appendingPathComponent("catpool.state")
        let damaged = Data("not a state file".utf8)
        try damaged.write(to: state)
        let result = try CatPoolBinary.run(
            ["-q", "--state", state.path, "--state-reset", Self.input], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix("catpool.state.damaged-") }
        #expect(kept.count == 1)
        let name = try #require(kept.first)
        #expect(name.count == "catpool.state.damaged-20261120T010203Z".count)
        #expect(try Data(contentsOf: folder.appendingPathComponent(name)) == damaged)
        #expect(result.stderr.contains("set aside as \(folder.path)/\(name)"))
        #expect(try Data(contentsOf: state) != damaged, "a fresh state was saved")
    }

    @Test func refusesADeviceAsTheStateFile() throws {
        let result = try CatPoolBinary.run(["-q", "--state", "/dev/null", Self.input], timeout: 60)
        #expect(result.status == 64)
        #expect(result.stderr.contains("--state /dev/null is not a regular file"))
        let kind = try FileManager.default.attributesOfItem(atPath: "/dev/null")[.type]
        #expect(kind as? FileAttributeType == .typeCharacterSpecial)
    }
}
