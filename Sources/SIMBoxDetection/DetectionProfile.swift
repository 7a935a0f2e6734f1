/// The thresholds of detection: built in, or read from a profile file.
///
/// A profile file has one `name = value` per line; `#` starts a comment; names not given
/// keep their defaults; an unknown name or a bad value is an error (a typo must not
/// silently weaken detection). `catpool profile` prints the effective profile in this
/// format, so its output is itself a valid profile file.
public struct DetectionProfile: Sendable, Equatable {
    /// Width of the trailing window, minutes.
    public var windowMinutes = 60.0
    /// How often the window is evaluated, minutes.
    public var hopMinutes = 1.0
    /// How far out of order records may arrive and still count, minutes.
    public var latenessMinutes = 10.0

    /// A channel candidate places at least this many calls in the window.
    public var minCallsPerSIM = 3.0
    /// …of which at least this share of its calls (out + in from outside) are outbound.
    public var minOutboundShare = 0.9
    /// …to at least this share of distinct callees.
    public var minDistinctCalleeShare = 0.8
    /// …with at most this share answered.
    public var maxAnsweredShare = 0.7
    /// …whose answered calls last at most this long on average, seconds.
    public var maxMeanAnsweredSeconds = 150.0
    /// …and at most this many data sessions in the last 24 hours of event time.
    public var maxDataSessions24h = 0.0

    /// A cluster needs at least this many candidate SIMs at one location.
    public var minSIMs = 4.0
    /// Calls per minute of a whole cluster: reported beside `calls_per_minute` for
    /// reference (the score weighs calls per SIM instead, which does not grow with its size).
    public var saturatingCallsPerMinute = 2.0
    /// Calls an hour per SIM, since it came to its place, at which the rate feature is full.
    ///
    /// The feature is empty at a third of this. A channel dials back to back, 24 to 40 calls an hour.
    public var machineCallsPerSIMHour = 18.0
    /// A cluster is flagged when its score reaches this: severity low (watch list).
    public var scoreThreshold = 0.65
    /// Severity medium (analyst review) from this score.
    public var mediumScore = 0.72
    /// Severity high (act now) from this score: set above every look-alike measured.
    public var highScore = 0.8

    public init() {}

    /// The built-in profile.
    public static let standard = DetectionProfile()

    /// Flags smaller devices: three SIMs, fewer calls per SIM, a lower score.
    public static let sensitive: DetectionProfile = {
        var profile = DetectionProfile()
        profile.minCallsPerSIM = 2
        profile.minSIMs = 3
        profile.scoreThreshold = 0.55
        profile.mediumScore = 0.65
        return profile
    }()

    /// Every setting: its file name and a key path, in the order `catpool profile` prints them.
    public static var settings:
        [(name: String, path: WritableKeyPath<DetectionProfile, Double>, help: String)]
    {
        [
            ("window_minutes", \.windowMinutes, "width of the trailing window"),
            ("hop_minutes", \.hopMinutes, "how often the window is evaluated"),
            ("lateness_minutes", \.latenessMinutes, "how late a record may arrive and still count"),
            (
                "min_calls_per_sim", \.minCallsPerSIM,
                "a channel candidate places at least this many calls in the window"
            ),
            (
                "min_outbound_share", \.minOutboundShare,
                "…with at least this share outbound (calls from sibling SIMs excluded)"
            ),
            (
                "min_distinct_callee_share", \.minDistinctCalleeShare,
                "…to at least this share of distinct callees"
            ),
            ("max_answered_share", \.maxAnsweredShare, "…with at most this share answered"),
            (
                "max_mean_answered_seconds", \.maxMeanAnsweredSeconds,
                "…answered calls lasting at most this long on average"
            ),
            (
                "max_data_sessions_24h", \.maxDataSessions24h,
                "…and at most this many data sessions in 24 hours"
            ),
            ("min_sims", \.minSIMs, "a cluster needs this many candidate SIMs at one location"),
            (
                "saturating_calls_per_minute", \.saturatingCallsPerMinute,
                "a cluster's calls per minute, reported for reference"
            ),
            (
                "machine_calls_per_sim_hour", \.machineCallsPerSIMHour,
                "calls an hour per SIM at which the rate feature is full"
            ),
            (
                "score_threshold", \.scoreThreshold,
                "a cluster is flagged at this score (severity low)"
            ),
            ("medium_score", \.mediumScore, "severity medium from this score"),
            ("high_score", \.highScore, "severity high from this score"),
        ]
    }

    /// Reads a profile file over `base`.
    ///
    /// - Throws: `ProfileError` naming the line.
    public init(text: String, over base: DetectionProfile = .standard) throws(ProfileError) {
        self = base
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let line =
                rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                ?? ""
            let trimmed = line.trimmingCharacters(in: " \t\r")
            if trimmed.isEmpty { continue }
            let parts = trimmed.split(separator: "=", maxSplits: 1).map {
                $0.trimmingCharacters(in: " \t")
            }
            guard parts.count == 2,
                let setting = Self.settings.first(where: { $0.name == parts[0] })
            else {
                throw ProfileError(
                    line: index + 1,
                    reason: "expected NAME = VALUE with a known name, got \"\(trimmed)\"")
            }
            guard let value = Double(parts[1]), value.isFinite, value >= 0 else {
                throw ProfileError(
                    line: index + 1,
                    reason: "\(parts[0]): expected a non-negative number, got \"\(parts[1])\"")
            }
            self[keyPath: setting.path] = value
        }
        guard scoreThreshold <= mediumScore, mediumScore <= highScore, highScore <= 1 else {
            throw ProfileError(
                line: 0,
                reason:
                    "expected score_threshold <= medium_score <= high_score <= 1, got \(scoreThreshold), \(mediumScore), \(highScore)"
            )
        }
        guard hopMinutes > 0, windowMinutes >= hopMinutes,
            (windowMinutes / hopMinutes).rounded() == windowMinutes / hopMinutes
        else {
            throw ProfileError(
                line: 0, reason: "window_minutes must be a positive multiple of hop_minutes")
        }
    }

    /// The tier a flagged cluster with `score` is in.
    public func severity(of score: Double) -> ClusterDecision.Severity {
        score >= highScore ? .high : score >= mediumScore ? .medium : .low
    }

    /// The profile in file form, with each setting's meaning as a comment.
    public var text: String {
        Self.settings.map { setting in
            "\(setting.name) = \(formatSetting(self[keyPath: setting.path]))  # \(setting.help)"
        }.joined(separator: "\n") + "\n"
    }

    private func formatSetting(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A profile file that cannot be used.
public struct ProfileError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }
    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = self
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
