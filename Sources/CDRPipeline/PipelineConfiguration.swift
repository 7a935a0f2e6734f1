import CDRRecords
import SIMBoxDetection

/// Everything the pipeline needs to know, built once from the command line.
///
/// The executable turns flags into this value (throwing a usage error when they are wrong);
/// the library never sees a raw flag string.
public struct PipelineConfiguration: Sendable {
    /// The field delimiter; `nil` detects it from each header line.
    public var delimiter: UInt8?
    /// The columns of header-less inputs; `nil` when inputs start with a header.
    public var columnLayout: ColumnLayout?
    /// Fields read from columns with other names (`--map`).
    public var renames: [ColumnLayout.Field: String]
    /// How `event_time` is read, including the zone of naive times.
    public var timestamps: TimestampParser
    /// Other `record_type` values read as one of the five (`--map-type VALUE=TYPE`).
    public var typeAliases: [(value: [UInt8], type: RecordType)] = []
    /// Lines longer than this are rejected as `line_too_long`.
    public var maxLineBytes: Int
    /// Whether rejected lines are written to `PipelineOutput.rejects`.
    public var collectsRejects: Bool
    /// Whether the first rejected line stops the run.
    public var isStrict: Bool
    /// How many rejected lines are described on stderr before they are only counted.
    public var describedRejectLimit: Int
    /// Detection: `nil` reads and counts only (`catpool check`).
    public var detection: Detection?
    /// `--pseudonymise`: identifiers in decisions, rejects and messages about input lines are
    /// written as pseudonyms; `nil` writes them as read.
    public var pseudonymiser: Pseudonymiser?

    /// What the detection stage needs.
    public struct Detection: Sendable {
        public var profile: DetectionProfile
        public var cellTable: CellTable
        public var allowList: AllowList
        /// The cap on detector state (`--max-state-mb`).
        public var limits: StateLimits
        /// Decisions below this severity are made but not written (`--min-severity`).
        public var minSeverity: ClusterDecision.Severity = .low
        /// Whether evidence lines are made (`--evidence`): `PipelineOutput.evidence`.
        public var collectsEvidence = false

        public init(
            profile: DetectionProfile = .standard, cellTable: CellTable = CellTable(),
            allowList: AllowList = AllowList(), limits: StateLimits = .standard
        ) {
            self.profile = profile
            self.cellTable = cellTable
            self.allowList = allowList
            self.limits = limits
        }
    }

    public init(
        delimiter: UInt8? = nil,
        columnLayout: ColumnLayout? = nil,
        renames: [ColumnLayout.Field: String] = [:],
        timestamps: TimestampParser = TimestampParser(),
        maxLineBytes: Int = 64 * 1024,
        collectsRejects: Bool = false,
        isStrict: Bool = false,
        describedRejectLimit: Int = 10,
        detection: Detection? = nil
    ) {
        self.delimiter = delimiter
        self.columnLayout = columnLayout
        self.renames = renames
        self.timestamps = timestamps
        self.maxLineBytes = maxLineBytes
        self.collectsRejects = collectsRejects
        self.isStrict = isStrict
        self.describedRejectLimit = describedRejectLimit
        self.detection = detection
    }
}
