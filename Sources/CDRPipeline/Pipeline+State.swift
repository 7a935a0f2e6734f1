import CDRRecords
import SIMBoxDetection

// MARK: - State across runs

/// The state file (`--state`): what a run hands the next one.
///
/// | section | contents |
/// | --- | --- |
/// | magic | the line `catpool state` |
/// | version | an integer, `stateVersion` |
/// | cells | a count, then each interned cell's name, in id order |
/// | locations | a count, then each location's name and, when it has a site, the site's name, latitude and longitude (NaN for none) |
/// | detector | `CatPoolDetector.save`: its windows and tables |
/// | checksum | `StateChecksum` of every byte before it |
///
/// Integers, strings and records are coded as `StateWriter` describes. A file of another
/// version or record layout is refused, never misread.
extension Pipeline {
    static let stateMagic = Array("catpool state\n".utf8)
    /// 6: a SIM's window counts hold its one callee, 32 bytes (5, with 24-byte counts, and
    /// earlier versions read no longer).
    static let stateVersion = 6

    /// Everything a later run needs to continue this one (`--state`), written to `writer`.
    ///
    /// The cells and locations met so far, and the detector with its windows still open.
    /// Flushes the detection stage first, adding the decisions of every record fed to
    /// `output`.
    public mutating func saveState(to writer: inout StateWriter, into output: inout PipelineOutput)
    {
        flush(into: &output)
        writer.writeBytes(Self.stateMagic)
        writer.write(Self.stateVersion)
        writer.write(cells.count)
        for id in 0..<cells.count { writer.write(cells.name(of: CellID(rawValue: UInt32(id)))) }
        writer.write(locations.locations.count)
        for location in locations.locations {
            writer.write(location.name)
            writer.write(location.site != nil)
            if let site = location.site {
                writer.write(site.name)
                writer.write(site.latitude ?? .nan)
                writer.write(site.longitude ?? .nan)
            }
        }
        detection?.save(into: &writer)
        writer.finish()
    }

    /// The detection stage (`nil` without detection), continuing `state` when given: its
    /// cells and locations go into `cells` and `locations`.
    ///
    /// Nothing in a file is believed before all of it is known to be intact (#13): the
    /// checksum is verified first, and the file must end where its checksum says.
    static func detectionStage(
        _ settings: PipelineConfiguration.Detection?, continuing state: StateReader?,
        cells: CellInterner, locations: inout LocationIndex
    ) throws -> DetectionStage? {
        guard var reader = state else {
            guard let settings else { return nil }
            return try DetectionStage(profile: settings.profile, limits: settings.limits)
        }
        try reader.verifyChecksumFirst(magic: stateMagic)
        try openState(&reader, cells: cells, locations: &locations)
        var stage: DetectionStage?
        if let settings {
            stage = try DetectionStage(
                profile: settings.profile, limits: settings.limits, restoring: &reader,
                references: StateReferences(
                    cellCount: cells.count, locationCount: locations.locations.count))
        }
        try reader.verifyChecksum()
        return stage
    }

    /// Checks the magic line and version and reads the cells and locations, leaving the
    /// reader at the detector's section.
    static func openState(
        _ reader: inout StateReader, cells: CellInterner, locations: inout LocationIndex
    ) throws(StateError) {
        guard (try? reader.expect(stateMagic)) == true else {
            throw .incompatible("not a catpool state file")
        }
        let version: Int = try reader.read()
        guard version == stateVersion else {
            throw .incompatible("version \(version); this catpool reads version \(stateVersion)")
        }
        let cellCount = try reader.readCount(limit: cells.limit)
        for id in 0..<cellCount {
            let name: String = try reader.read()
            guard cells.intern(name).rawValue == UInt32(id) else {
                throw .malformed("cell \(id) repeats an earlier one")
            }
        }
        // Each location came from a cell; coordinates are those a cell table accepts, or
        // NaN for none.
        var saved: [LocationIndex.Location] = []
        for _ in 0..<(try reader.readCount(limit: cellCount)) {
            let name: String = try reader.read()
            var site: CellTable.Site?
            if try reader.read() as Bool {
                let siteName: String = try reader.read()
                let latitude: Double = try reader.read()
                let longitude: Double = try reader.read()
                guard latitude.isNaN || (-90...90).contains(latitude),
                    longitude.isNaN || (-180...180).contains(longitude)
                else { throw .malformed("the coordinates of location \(saved.count)") }
                site = CellTable.Site(
                    name: siteName, latitude: latitude.isNaN ? nil : latitude,
                    longitude: longitude.isNaN ? nil : longitude)
            }
            saved.append(LocationIndex.Location(name: name, site: site))
        }
        guard locations.restore(saved) else { throw .malformed("a location given twice") }
    }
}
