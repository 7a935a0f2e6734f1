import CDRRecords

/// The operator's cell reference table (`cell,site,lat,lon`): where each cell is.
///
/// With a table, the detector's location is the site, so a box whose channels camp on
/// several sectors of one mast is one cluster; cells missing from the table stay their own
/// location.
public struct CellTable: Sendable {
    public struct Site: Sendable, Equatable {
        public var name: String
        public var latitude: Double?
        public var longitude: Double?
    }

    /// Cell token → site.
    public private(set) var siteOfCell: [String: Site] = [:]

    /// About how many bytes the table holds, as `--max-state-mb` counts it.
    ///
    /// Per cell a dictionary slot with its two strings and coordinates (about 160 bytes at
    /// the dictionary's load), and the strings' bytes.
    public var footprintBytes: Int {
        siteOfCell.reduce(0) { $0 + 160 + $1.key.utf8.count + $1.value.name.utf8.count }
    }

    public init() {}

    /// Reads the table.
    ///
    /// The header names the columns (`cell` and `site` required, `lat` and `lon` optional),
    /// delimiter detected as for CDRs. A UTF-8 byte-order mark is ignored.
    ///
    /// - Throws: `CellTableError` naming the line: a malformed line, a latitude outside
    ///   -90...90 or a longitude outside -180...180 (or not finite), or a cell given twice
    ///   (naming both lines).
    public init(bytes: [UInt8]) throws(CellTableError) {
        // Bytes, not Strings, until a field is kept: a 60,000-cell table took 0.1 s split
        // into Strings line by line and field by field, as long as 4 M records take to parse.
        let lines = Self.lines(of: bytes)
        guard let headerIndex = lines.firstIndex(where: { Self.isContent(bytes[$0]) }) else {
            return
        }
        let header = Array(bytes[lines[headerIndex]])
        let delimiter = ColumnLayout.detectDelimiter(header)
        let names = Self.fields(of: header[...], delimiter).map {
            String(decoding: header[$0], as: UTF8.self).lowercased()
        }
        guard let cellColumn = names.firstIndex(of: "cell"),
            let siteColumn = names.firstIndex(of: "site")
        else {
            throw CellTableError(line: 1, reason: "the header must name the columns cell and site")
        }
        let latColumn = names.firstIndex(of: "lat")
        let lonColumn = names.firstIndex(of: "lon")
        siteOfCell.reserveCapacity(lines.count - headerIndex)
        for index in lines.indices.dropFirst(headerIndex + 1) {
            let line = bytes[lines[index]]
            guard Self.isContent(line) else { continue }
            let fields = Self.fields(of: line, delimiter)
            @inline(__always) func text(_ column: Int) -> String {
                String(decoding: bytes[fields[column]], as: UTF8.self)
            }
            guard fields.count == names.count, !fields[cellColumn].isEmpty,
                !fields[siteColumn].isEmpty
            else {
                throw CellTableError(
                    line: index + 1, reason: "expected \(names.count) fields with a cell and a site"
                )
            }
            let latText = latColumn.map(text) ?? ""
            let lonText = lonColumn.map(text) ?? ""
            let latitude = Double(latText)
            let longitude = Double(lonText)
            if (!latText.isEmpty && latitude == nil) || (!lonText.isEmpty && longitude == nil) {
                throw CellTableError(line: index + 1, reason: "lat and lon must be decimal degrees")
            }
            if let latitude, !(-90...90).contains(latitude) {
                throw CellTableError(
                    line: index + 1, reason: "lat must be within -90...90, not \(latText)")
            }
            if let longitude, !(-180...180).contains(longitude) {
                throw CellTableError(
                    line: index + 1, reason: "lon must be within -180...180, not \(lonText)")
            }
            let cell = text(cellColumn)
            let site = Site(name: text(siteColumn), latitude: latitude, longitude: longitude)
            if siteOfCell.updateValue(site, forKey: cell) != nil {
                // Only now look for the first line, so a valid table costs no second map.
                let first =
                    lines.indices.first { earlier in
                        earlier > headerIndex && earlier < index
                            && Self.isContent(bytes[lines[earlier]])
                            && Self.fields(of: bytes[lines[earlier]], delimiter)
                                .dropFirst(cellColumn).first
                                .map { String(decoding: bytes[$0], as: UTF8.self) } == cell
                    } ?? index
                throw CellTableError(
                    line: index + 1,
                    reason: "cell \(cell) is given twice (first on line \(first + 1))")
            }
        }
    }

    /// Each line's byte range, without its line end (`\n` or `\r\n`) and after a UTF-8
    /// byte-order mark.
    private static func lines(of bytes: [UInt8]) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while true {
            let newline = bytes[start...].firstIndex(of: 0x0A) ?? bytes.endIndex
            var end = newline
            if end > start, bytes[end - 1] == 0x0D { end -= 1 }
            lines.append(start..<end)
            guard newline < bytes.endIndex else { return lines }
            start = newline + 1
        }
    }

    /// Whether a line holds anything: not empty and not a `#` comment.
    private static func isContent(_ line: ArraySlice<UInt8>) -> Bool {
        line.first.map { $0 != 0x23 } ?? false
    }

    /// The byte ranges of a line's fields (no quoting: cell tables have none).
    private static func fields(of line: ArraySlice<UInt8>, _ delimiter: UInt8) -> [Range<Int>] {
        var fields: [Range<Int>] = []
        var start = line.startIndex
        while let end = line[start...].firstIndex(of: delimiter) {
            fields.append(start..<end)
            start = end + 1
        }
        fields.append(start..<line.endIndex)
        return fields
    }

    public var isEmpty: Bool { siteOfCell.isEmpty }
}

/// A cell table that cannot be read.
public struct CellTableError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var reason: String
    public var description: String { "line \(line): \(reason)" }
}

/// Dense location numbers for the detector: a site from the cell table, or else the cell.
struct LocationIndex {
    struct Location {
        var name: String
        var site: CellTable.Site?
    }

    let table: CellTable
    private(set) var locations: [Location] = []
    private var numberByName: [String: Int32] = [:]
    /// Cell id → location number (-1: not looked up yet).
    private var locationOfCell: [Int32] = []

    init(table: CellTable) { self.table = table }

    /// Takes the locations of an earlier run, numbered as they were (the detector's saved
    /// state refers to them by number); cells find theirs again as they appear.
    ///
    /// - Returns: `false` when two of them are one location (a damaged or forged file).
    mutating func restore(_ saved: [Location]) -> Bool {
        locations = saved
        numberByName = [:]
        for (number, location) in saved.enumerated() {
            guard numberByName.updateValue(Int32(number), forKey: Self.key(location)) == nil else {
                return false
            }
        }
        locationOfCell = []
        return true
    }

    private static func key(_ location: Location) -> String {
        location.site.map { "site\u{0}" + $0.name } ?? "cell\u{0}" + location.name
    }

    /// The location of an interned cell, looked up once per cell.
    @inline(__always)
    mutating func location(of cell: CellID, cells: CellInterner) -> Int32 {
        let index = Int(cell.rawValue)
        if index < locationOfCell.count, locationOfCell[index] >= 0 { return locationOfCell[index] }
        while locationOfCell.count <= index { locationOfCell.append(-1) }
        let name = cells.name(of: cell)
        let site = table.siteOfCell[name]
        let key = site.map { "site\u{0}" + $0.name } ?? "cell\u{0}" + name
        let number: Int32
        if let known = numberByName[key] {
            number = known
        } else {
            number = Int32(locations.count)
            numberByName[key] = number
            locations.append(Location(name: site?.name ?? name, site: site))
        }
        locationOfCell[index] = number
        return number
    }
}
