/// How one of the run's threads spent the run, for `--stats` (`threads`).
///
/// The executable owns the threads and measures them; the library only writes them down.
/// On two cores the reader, the parser and the detector share the machine, and the one that
/// waits least is the one that sets the pace: these numbers say which it was on this machine
/// and this input (docs/operations.md, "Where the time goes").
public struct ThreadUse: Sendable, Equatable {
    /// `reader`, `parser` or `detector`.
    public var name: String
    /// CPU time the thread used, in seconds.
    public var cpuSeconds: Double
    /// Seconds spent waiting on other threads, in pipeline order of the thread waited on.
    public var waits: [Wait]

    /// Time spent waiting on one other thread.
    public struct Wait: Sendable, Equatable {
        /// The thread waited on: `reader` (for decoded input), `parser` (for records, or for
        /// a decoded buffer to come back) or `detector` (for a batch of records to come back).
        public var on: String
        public var seconds: Double
        /// How many times the thread went to sleep for it.
        public var count: Int

        public init(on: String, seconds: Double, count: Int) {
            self.on = on
            self.seconds = seconds
            self.count = count
        }
    }

    public init(name: String, cpuSeconds: Double, waits: [Wait] = []) {
        self.name = name
        self.cpuSeconds = cpuSeconds
        self.waits = waits
    }
}
