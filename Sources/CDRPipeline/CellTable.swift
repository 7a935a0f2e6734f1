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
        let text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...]
        let lines = text.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0.last == 0x0D ? $0.dropLast() : $0[...], as: UTF8.self)
        }
        guard let header = lines.first(where: { !$0.isEmpty && !$0.hasPrefix("#") }) else { return }
        let delimiter = Character(UnicodeScalar(ColumnLayout.detectDelimiter(Array(header.utf8))))
        let names = header.split(separator: delimiter, omittingEmptySubsequences: false).map {
            $0.lowercased()
        }
        guard let cellColumn = names.firstIndex(of: "cell"),
            let siteColumn = names.firstIndex(of: "site")
        else {
            throw CellTableError(line: 1, reason: "the header must name the columns cell and site")
        }
        let latColumn = names.firstIndex(of: "lat")
        let lonColumn = names.firstIndex(of: "lon")
        var seenHeader = false
        for (index, line) in lines.enumerated() where !line.isEmpty && !line.hasPrefix("#") {
            if !seenHeader {
                seenHeader = true
                continue
            }
            let fields = line.split(separator: delimiter, omittingEmptySubsequences: false).map(
                String.init)
            guard fields.count == names.count, !fields[cellColumn].isEmpty,
                !fields[siteColumn].isEmpty
            else {
                throw CellTableError(
                    line: index + 1, reason: "expected \(names.count) fields with a cell and a site"
                )
            }
            let latitude = latColumn.flatMap { Double(fields[$0]) }
            let longitude = lonColumn.flatMap { Double(fields[$0]) }
            if latColumn.map({ !fields[$0].isEmpty && latitude == nil }) == true
                || lonColumn.map({ !fields[$0].isEmpty && longitude == nil }) == true
            {
                throw CellTableError(line: index + 1, reason: "lat and lon must be decimal degrees")
            }
            if let latitude, !(-90...90).contains(latitude) {
                throw CellTableError(
                    line: index + 1,
                    reason: "lat must be within -90...90, not \(fields[latColumn ?? 0])")
            }
            if let longitude, !(-180...180).contains(longitude) {
                throw CellTableError(
                    line: index + 1,
                    reason: "lon must be within -180...180, not \(fields[lonColumn ?? 0])")
            }
            let site = Site(name: fields[siteColumn], latitude: latitude, longitude: longitude)
            if siteOfCell.updateValue(site, forKey: fields[cellColumn]) != nil {
                // Only now look for the first line, so a valid table costs no second map.
                let cell = fields[cellColumn]
                let first =
                    lines.indices.first {
                        $0 < index
                            && lines[$0].split(
                                separator: delimiter, omittingEmptySubsequences: false
                            )
                            .dropFirst(cellColumn).first.map(String.init) == cell
                    } ?? index
                throw CellTableError(
                    line: index + 1,
                    reason: "cell \(cell) is given twice (first on line \(first + 1))")
            }
        }
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
