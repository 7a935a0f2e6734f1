import CDRRecords
import JSONText

extension DaySimulator {
    /// The ground truth of a run, as one JSON object (call after `run`).
    ///
    /// ```json
    /// {"seed":1,"subscribers":100000,"start":"…","hours":24,"local_offset_s":28800,
    ///  "records":2480311,"lines":2480312,
    ///  "boxes":[{"id":"box-01","kind":"standard","site":"S00412","lat":31.2,"lon":121.4,
    ///            "cells":["460-00-4006-14121"],"channels":8,"imei_mode":"serial",
    ///            "calls_per_channel_hour":31,"rotation_minutes":0,"start":"…","end":"…",
    ///            "sims":["460010…"],"msisdns":["86170…"],"imeis":["86117203…"]}],
    ///  "look_alikes":[{"id":"call-centre-1","kind":"call-centre","site":"S00077",
    ///                  "cells":[…],"sims":[…]}],
    ///  "bad_lines":[1042,…]}
    /// ```
    ///
    /// `lines` counts the header; `bad_lines` are 1-based line numbers of the broken lines.
    /// A mobile box lists every cell on its route.
    public func truthJSON() -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("seed"); json.string(String(configuration.seed))
        json.key("subscribers"); json.int(configuration.subscribers)
        json.key("start"); json.string(configuration.start.description)
        json.key("hours"); json.int(configuration.hours)
        json.key("local_offset_s"); json.int(configuration.localOffsetSeconds)
        json.key("records"); json.int(recordsWritten)
        json.key("lines"); json.int(recordsWritten + badLines.count + 1)
        json.key("boxes")
        json.beginArray()
        for box in boxes {
            json.beginObject()
            json.key("id"); json.string(box.id)
            json.key("kind"); json.string(box.kind.rawValue)
            writeSite(box.site, &json)
            json.key("cells");
            strings(box.allCells(city: city).map { city.name(of: $0) }.uniqued(), &json)
            json.key("channels"); json.int(box.channels)
            json.key("imei_mode")
            json.string(
                box.kind == .sharedIMEI ? "shared" : box.kind == .randomIMEI ? "random" : "serial")
            json.key("calls_per_channel_hour");
            json.decimal(box.callsPerChannelHour, fractionDigits: 2)
            json.key("rotation_minutes"); json.int(Int(box.rotationMilliseconds / 60_000))
            json.key("start");
            json.string(EventTime(millisecondsSinceEpoch: box.startMilliseconds).description)
            json.key("end");
            json.string(EventTime(millisecondsSinceEpoch: box.endMilliseconds).description)
            json.key("sims"); strings(box.imsis.map(imsiText), &json)
            json.key("msisdns");
            strings(box.msisdns.map { PhoneNumber(rawValue: $0).description }, &json)
            json.key("imeis")
            strings(
                box.kind == .randomIMEI
                    ? [] : box.channelIMEIs.map { IMEI(rawValue14: $0).description }.uniqued(),
                &json)
            json.endObject()
        }
        json.endArray()
        json.key("look_alikes")
        json.beginArray()
        for lookAlike in lookAlikes {
            json.beginObject()
            json.key("id"); json.string(lookAlike.id)
            json.key("kind"); json.string(lookAlike.kind.rawValue)
            writeSite(lookAlike.site, &json)
            json.key("cells"); strings(lookAlike.cells(city: city).map { city.name(of: $0) }, &json)
            json.key("sims"); strings(lookAlike.imsis.map(imsiText), &json)
            json.endObject()
        }
        json.endArray()
        json.key("bad_lines")
        json.beginArray()
        for line in badLines { json.int(line) }
        json.endArray()
        json.endObject()
        json.newline()
        return json.bytes
    }

    private func imsiText(_ raw: UInt64) -> String {
        (IMSI(rawValue: raw) ?? CallRecord.placeholder.imsi).description
    }

    private func writeSite(_ site: Int, _ json: inout JSONWriter) {
        json.key("site"); json.string(city.sites[site].name)
        json.key("lat"); json.decimal(city.sites[site].latitude, fractionDigits: 6)
        json.key("lon"); json.decimal(city.sites[site].longitude, fractionDigits: 6)
    }

    private func strings(_ values: [String], _ json: inout JSONWriter) {
        json.beginArray()
        for value in values { json.string(value) }
        json.endArray()
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each kept once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
