import CDRRecords

/// A decision about a device cluster, made at one window evaluation; the pipeline writes
/// each as one JSON line (see `CDRPipeline/OutputEvent.swift`).
public struct ClusterDecision: Sendable {
    public enum Kind: String, Sendable {
        /// The cluster crossed the score threshold for the first time.
        case flagged
        /// A flagged cluster gained SIMs or devices, or moved to another location.
        case updated
        /// A flagged cluster has been silent for a whole window.
        case closed
    }

    /// How urgently a cluster calls for action: the anti-fraud centres' tiers.
    ///
    /// Set by the score against the profile's boundaries (`score_threshold`,
    /// `medium_score`, `high_score`); a cluster's severity only ever rises.
    public enum Severity: Int, Comparable, CaseIterable, Sendable {
        /// Watch list: the cluster crossed the score threshold on thin or mixed evidence.
        case low
        /// Analyst review.
        case medium
        /// Act now: block or verify the SIMs.
        case high

        public var name: String { ["low", "medium", "high"][rawValue] }

        public init?(name: String) {
            guard let level = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = level
        }

        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// The cluster over its whole life so far, not just the evaluated window.
    public struct Lifetime: Sendable, Equatable {
        /// When its first SIMs began calling here (or the first window began, if earlier).
        public var firstSeen: EventTime
        /// The latest call of any of its SIMs.
        public var lastSeen: EventTime
        /// Calls its SIMs placed from the first window it was seen in until now.
        public var callsOut: Int
        /// The most candidate SIMs seen in one window.
        public var peakSIMs: Int
    }

    /// One SIM of the cluster.
    public struct SIM: Sendable {
        public var imsi: IMSI
        public var msisdn: PhoneNumber?
        public var imeis: [IMEI]
    }

    /// A measured value set against the threshold it was judged by.
    public struct Reason: Sendable, Equatable {
        public var code: String
        public var value: Double
        public var threshold: Double
    }

    /// Traffic of the cluster's SIMs in the evaluated window.
    public struct Statistics: Sendable, Equatable {
        public var callsOut = 0
        /// Calls in from outside the cluster.
        public var callsIn = 0
        /// Calls between SIMs of the cluster (inter-calling).
        public var callsBetweenSIMs = 0
        public var distinctCallees = 0
        /// Mean duration of answered calls, seconds.
        public var meanDurationSeconds = 0.0
        public var answeredShare = 0.0
        public var callsPerMinute = 0.0
        /// Channels busy on average over the observed span (talk and ring time).
        public var meanConcurrentCalls = 0.0
    }

    public var kind: Kind
    /// Numbered from 1 in order of first flagging; one number for the cluster's whole life.
    public var clusterID: Int
    /// Where the cluster is now (a cell or, with a cell table, a site).
    public var location: Int32
    /// The cells its SIMs were last seen on.
    public var cells: [CellID]
    public var windowStart: EventTime
    public var windowEnd: EventTime
    /// SIMs, sorted by IMSI: every SIM the cluster has shown since it was first seen.
    public var sims: [SIM]
    /// Devices as indices into `sims`, each sorted, the list sorted by first index.
    public var devices: [[Int]]
    public var statistics: Statistics
    public var score: Double
    public var severity: Severity
    public var lifetime: Lifetime
    public var reasons: [Reason]
}
