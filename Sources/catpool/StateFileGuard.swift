import Glibc

/// What surrounds a `--state` file (#13 rows 13, 15, 16): a lock held for the whole run, so
/// two runs never continue one state at once; the temporary files of runs that died while
/// saving, removed; and a damaged file set aside under a new name rather than overwritten.
final class StateFileGuard {
    let statePath: String
    private let lockDescriptor: Int32

    /// Takes `STATE.lock` (flock, exclusive, not waiting) and removes stale temporaries.
    ///
    /// - Throws: after printing why, `RunFailure.stateInUse` when another run holds the
    ///   lock, `.io` when the lock file cannot be opened.
    init(statePath: String) throws(RunFailure) {
        self.statePath = statePath
        let lockPath = "\(statePath).lock"
        lockDescriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockDescriptor >= 0 else {
            printError(
                "cannot open the --state lock \(lockPath): \(String(cString: strerror(errno)))")
            throw .io
        }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            printError(
                "--state \(statePath) is in use: another run holds \(lockPath); wait for it to "
                    + "end, or use another --state file")
            close(lockDescriptor)
            throw .stateInUse
        }
        Self.removeStaleTemporaries(of: statePath)
    }

    deinit { close(lockDescriptor) }

    /// Removes `PATH.tmp-PID` files beside `path` whose process no longer exists: what a run
    /// killed while saving leaves behind (`AtomicFileWriter` names them so).
    static func removeStaleTemporaries(of path: String) {
        let folder = Preflight.folder(of: path)
        let prefix = "\(path.split(separator: "/").last.map(String.init) ?? path).tmp-"
        guard let directory = opendir(folder) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix(prefix), let pid = pid_t(name.dropFirst(prefix.count)),
                pid != getpid(), kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            let stale = folder == "." ? name : "\(folder)/\(name)"
            if unlink(stale) == 0 {
                printError("removed \(stale), left by a run (pid \(pid)) that ended while saving")
            }
        }
    }

    /// Renames the state file to `STATE.damaged-YYYYMMDDTHHMMSSZ` (`--state-reset`).
    ///
    /// - Returns: the new name, or `nil` (after saying why) when it could not be renamed.
    func setAside() -> String? {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        let stamp =
            "\(parts.tm_year + 1900)" + pad(parts.tm_mon + 1) + pad(parts.tm_mday)
            + "T" + pad(parts.tm_hour) + pad(parts.tm_min) + pad(parts.tm_sec) + "Z"
        let target = "\(statePath).damaged-\(stamp)"
        guard rename(statePath, target) == 0 else {
            printError(
                "cannot set \(statePath) aside as \(target): \(String(cString: strerror(errno)))")
            return nil
        }
        return target
    }

    private func pad(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
