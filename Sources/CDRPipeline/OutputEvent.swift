import CDRRecords
import JSONText
import SIMBoxDetection

/// The wire format of `catpool detect`: one JSON object per line on stdout, one per decision,
/// written and flushed as soon as it is made.
///
/// Keys always appear in this order; arrays are sorted (but `reasons`, in the score's order);
/// numbers have at most three decimals (coordinates six, `formatDecimal`); times are ISO 8601
/// UTC. The same input and flags give the same bytes.
///
/// | key | type | meaning |
/// | --- | --- | --- |
/// | `event` | string | `flagged` (first crossed the score threshold), `updated` (gained SIMs or devices, moved, or rose in severity), `closed` (silent for a whole window) |
/// | `cluster_id` | string | `cp-` and a number, one per cluster for its whole life, numbered in order of flagging |
/// | `location` | string | the site (with `--cells`) or the cell |
/// | `cells` | [string] | the cells its SIMs were last seen on |
/// | `site`, `lat`, `lon` | string, number, number | only when the cell table knows the location |
/// | `window_start`, `window_end` | string | the evaluated window `[start, end)` |
/// | `detected_at` | string | the event time of the decision (the window's end) |
/// | `sims` | [string] | IMSIs, sorted: every SIM the cluster has shown |
/// | `msisdns` | [string] | their phone numbers, where known, sorted |
/// | `imeis` | [string] | their IMEIs (15 digits, check digit recomputed), sorted |
/// | `devices` | [{`imeis`, `sims`}] | SIMs linked into devices (shared or near-serial IMEIs, calls between them) |
/// | `stats` | object | the window: `calls_out`, `calls_in` (from outside), `calls_between_sims`, `distinct_callees`, `mean_duration_s` (answered calls), `answered_share`, `calls_per_minute`, `mean_concurrent_calls` |
/// | `lifetime` | object | the cluster's life so far: `first_seen`, `last_seen` (its latest call), `calls_out` (since the flagging window), `sims` (every SIM it has shown), `peak_sims` (most candidates in one window) |
/// | `score` | number | in [0, 1] |
/// | `severity` | string | `low`, `medium` or `high`, by the score against the profile; it only rises |
/// | `reasons` | [{`code`, `value`, `threshold`}] | each measured feature and the profile value it was judged by |
///
/// With `--pseudonymise KEYFILE` (#14), every identifier in `sims`, `msisdns`, `imeis` and
/// `devices` is its `Pseudonymiser` pseudonym (24 lowercase hex characters: HMAC-SHA256 of the
/// digits written here without the option, keyed with the file, cut to 12 bytes), and these
/// arrays are sorted by pseudonym; every other key keeps its bytes.
///
/// Example (abridged):
///
/// ```json
/// {"event":"flagged","cluster_id":"cp-1","location":"S00412","cells":["460-00-4006-14121"],
///  "site":"S00412","lat":31.2304,"lon":121.4737,"window_start":"2026-11-20T01:00:00Z",
///  "window_end":"2026-11-20T02:00:00Z","detected_at":"2026-11-20T02:00:00Z",
///  "sims":["460010…"],"msisdns":["86170…"],"imeis":["86117203…"],
///  "devices":[{"imeis":["86117203…"],"sims":["460010…"]}],
///  "stats":{"calls_out":212,"calls_in":0,"calls_between_sims":0,"distinct_callees":212,
///           "mean_duration_s":48.1,"answered_share":0.34,"calls_per_minute":4.2,
///           "mean_concurrent_calls":2.9},
///  "score":0.97,"reasons":[{"code":"sims","value":8,"threshold":4},…]}
/// ```
public enum OutputEvent {
    static func encode(
        _ decision: ClusterDecision, location: LocationIndex.Location, cells: CellInterner,
        pseudonymiser: Pseudonymiser?, into bytes: inout [UInt8]
    ) {
        encode(
            decision, location: location.name, site: location.site, cells: cells,
            pseudonymiser: pseudonymiser, into: &bytes)
    }

    /// Appends `decision` as one JSON line; `location` names its location (the site, or else
    /// the cell), `site` is the cell table's entry when there is one.
    ///
    /// With a `pseudonymiser` (`--pseudonymise`), every IMSI, MSISDN and IMEI in `sims`,
    /// `msisdns`, `imeis` and `devices` is its pseudonym, and those arrays are sorted by
    /// pseudonym (the devices by their first SIM), so the order tells nothing of the raw
    /// identifiers. Every other field is the same bytes as without it.
    public static func encode(
        _ decision: ClusterDecision, location: String, site: CellTable.Site?,
        cells: CellInterner, pseudonymiser: Pseudonymiser? = nil, into bytes: inout [UInt8]
    ) {
        var json = JSONWriter()
        json.beginObject()
        json.key("event"); json.string(decision.kind.rawValue)
        json.key("cluster_id"); json.string("cp-\(decision.clusterID)")
        json.key("location"); json.string(location)
        json.key("cells")
        json.beginArray()
        for name in decision.cells.map({ cells.name(of: $0) }).sorted() { json.string(name) }
        json.endArray()
        if let site {
            json.key("site"); json.string(site.name)
            if let latitude = site.latitude, let longitude = site.longitude {
                json.key("lat"); json.decimal(latitude, fractionDigits: 6)
                json.key("lon"); json.decimal(longitude, fractionDigits: 6)
            }
        }
        json.key("window_start"); json.string(decision.windowStart.description)
        json.key("window_end"); json.string(decision.windowEnd.description)
        json.key("detected_at"); json.string(decision.windowEnd.description)
        if let pseudonymiser {
            encodeIdentifiers(of: decision, pseudonymiser, &json)
        } else {
            json.key("sims"); strings(decision.sims.map(\.imsi.description), &json)
            json.key("msisdns");
            strings(decision.sims.compactMap { $0.msisdn?.description }.sorted(), &json)
            json.key("imeis");
            strings(Set(decision.sims.flatMap(\.imeis)).sorted().map(\.description), &json)
            json.key("devices")
            json.beginArray()
            for device in decision.devices {
                json.beginObject()
                json.key("imeis");
                strings(
                    Set(device.flatMap { decision.sims[$0].imeis }).sorted().map(\.description),
                    &json)
                json.key("sims"); strings(device.map { decision.sims[$0].imsi.description }, &json)
                json.endObject()
            }
            json.endArray()
        }
        let stats = decision.statistics
        json.key("stats")
        json.beginObject()
        json.key("calls_out"); json.int(stats.callsOut)
        json.key("calls_in"); json.int(stats.callsIn)
        json.key("calls_between_sims"); json.int(stats.callsBetweenSIMs)
        json.key("distinct_callees"); json.int(stats.distinctCallees)
        json.key("mean_duration_s"); json.decimal(stats.meanDurationSeconds, fractionDigits: 3)
        json.key("answered_share"); json.decimal(stats.answeredShare, fractionDigits: 3)
        json.key("calls_per_minute"); json.decimal(stats.callsPerMinute, fractionDigits: 3)
        json.key("mean_concurrent_calls");
        json.decimal(stats.meanConcurrentCalls, fractionDigits: 3)
        json.endObject()
        let lifetime = decision.lifetime
        json.key("lifetime")
        json.beginObject()
        json.key("first_seen"); json.string(lifetime.firstSeen.description)
        json.key("last_seen"); json.string(lifetime.lastSeen.description)
        json.key("calls_out"); json.int(lifetime.callsOut)
        json.key("sims"); json.int(decision.sims.count)
        json.key("peak_sims"); json.int(lifetime.peakSIMs)
        json.endObject()
        json.key("score"); json.decimal(decision.score, fractionDigits: 3)
        json.key("severity"); json.string(decision.severity.name)
        json.key("reasons")
        json.beginArray()
        for reason in decision.reasons {
            json.beginObject()
            json.key("code"); json.string(reason.code)
            json.key("value"); json.decimal(reason.value, fractionDigits: 3)
            json.key("threshold"); json.decimal(reason.threshold, fractionDigits: 3)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        json.newline()
        bytes.append(contentsOf: json.bytes)
    }

    /// `sims`, `msisdns`, `imeis` and `devices` as pseudonyms, each array sorted by them.
    ///
    /// - Complexity: one HMAC per identifier of the decision (it is written rarely: a few
    ///   hundred decisions a day, never per record).
    private static func encodeIdentifiers(
        of decision: ClusterDecision, _ pseudonymiser: Pseudonymiser, _ json: inout JSONWriter
    ) {
        let imsis = decision.sims.map { pseudonymiser.pseudonym(of: $0.imsi.description) }
        var imeis: [IMEI: String] = [:]
        for imei in decision.sims.flatMap(\.imeis) where imeis[imei] == nil {
            imeis[imei] = pseudonymiser.pseudonym(of: imei.description)
        }
        json.key("sims"); strings(imsis.sorted(), &json)
        json.key("msisdns");
        strings(
            decision.sims.compactMap {
                $0.msisdn.map { pseudonymiser.pseudonym(of: $0.description) }
            }
            .sorted(), &json)
        json.key("imeis"); strings(imeis.values.sorted(), &json)
        let devices = decision.devices.map { device in
            (
                imeis: Set(device.flatMap { decision.sims[$0].imeis }).compactMap { imeis[$0] }
                    .sorted(),
                sims: device.map { imsis[$0] }.sorted()
            )
        }
        json.key("devices")
        json.beginArray()
        for device in devices.sorted(by: { $0.sims.lexicographicallyPrecedes($1.sims) }) {
            json.beginObject()
            json.key("imeis"); strings(device.imeis, &json)
            json.key("sims"); strings(device.sims, &json)
            json.endObject()
        }
        json.endArray()
    }

    private static func strings(_ values: [String], _ json: inout JSONWriter) {
        json.beginArray()
        for value in values { json.string(value) }
        json.endArray()
    }
}
