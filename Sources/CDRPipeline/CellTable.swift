import CDRRecords
import Glibc

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

    /// What the table says of one cell: its site and coordinates (NaN: none).
    private struct Entry {
        var site: UInt32
        var latitude: Double
        var longitude: Double
    }

    // The cells in the order of their names' bytes, for a binary search: a dictionary of
    // `String`s took 15 MB for a dense city's 60,000 cells, these arrays 3 MB.

    /// The cells' names, one after another.
    private var names: [UInt8] = []
    /// Per cell, where its name ends in `names` (it starts where the one before ends).
    private var nameEnds: [UInt32] = []
    private var entries: [Entry] = []
    /// The sites' names, each once.
    private var siteNames: [String] = []
    /// Cells whose names are not ASCII, by name: a `String` compares them as the
    /// dictionary before it did (canonically equal spellings are one cell), bytes would not.
    private var nonASCII: [String: Int32] = [:]

    /// The number of cells in the table.
    public var cellCount: Int { entries.count }

    /// About how many bytes the table holds, as `--max-state-mb` counts it.
    public var footprintBytes: Int {
        names.count + nameEnds.count * 4 + entries.count * MemoryLayout<Entry>.stride
            + siteNames.reduce(0) { $0 + 16 + $1.utf8.count } + nonASCII.count * 64
    }

    public init() {}

    /// Reads the table.
    ///
    /// The header names the columns (`cell` and `site` required, `lat` and `lon` optional),
    /// delimiter detected as for CDRs. A UTF-8 byte-order mark is ignored.
    ///
    /// - Throws: `CellTableError` naming the line: a malformed line, a latitude outside
    ///   -90...90 or a longitude outside -180...180 (or not finite), or a cell given twice
    ///   (naming both lines), whichever comes first in the file.
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
        // Each cell as read: its name's bytes in `cellNames` (as valid UTF-8, the form the
        // detector's cells come back in), its line number and what it says.
        var cellNames: [UInt8] = []
        var cells: [(name: Range<Int>, line: Int, entry: Entry)] = []
        cells.reserveCapacity(lines.count - headerIndex)
        var siteNumbers: [String: UInt32] = [:]
        for index in lines.indices.dropFirst(headerIndex + 1) {
            let line = bytes[lines[index]]
            guard Self.isContent(line) else { continue }
            @inline(__always) func fail(_ reason: String) -> CellTableError {
                // A cell given twice on an earlier line is the first problem in the file.
                Self.firstRepeat(in: cells, of: cellNames, order: Self.byName(cells, cellNames))
                    ?? CellTableError(line: index + 1, reason: reason)
            }
            let fields = Self.fields(of: line, delimiter)
            @inline(__always) func text(_ column: Int) -> String {
                String(decoding: bytes[fields[column]], as: UTF8.self)
            }
            guard fields.count == names.count, !fields[cellColumn].isEmpty,
                !fields[siteColumn].isEmpty
            else {
                throw fail("expected \(names.count) fields with a cell and a site")
            }
            let latText = latColumn.map(text) ?? ""
            let lonText = lonColumn.map(text) ?? ""
            let latitude = Double(latText)
            let longitude = Double(lonText)
            if (!latText.isEmpty && latitude == nil) || (!lonText.isEmpty && longitude == nil) {
                throw fail("lat and lon must be decimal degrees")
            }
            if let latitude, !(-90...90).contains(latitude) {
                throw fail("lat must be within -90...90, not \(latText)")
            }
            if let longitude, !(-180...180).contains(longitude) {
                throw fail("lon must be within -180...180, not \(lonText)")
            }
            let siteName = text(siteColumn)
            let site: UInt32
            if let known = siteNumbers[siteName] {
                site = known
            } else {
                site = UInt32(siteNames.count)
                siteNumbers[siteName] = site
                siteNames.append(siteName)
            }
            let nameStart = cellNames.count
            let rawName = bytes[fields[cellColumn]]
            if Self.isASCII(rawName) {
                cellNames.append(contentsOf: rawName)
            } else {
                cellNames.append(contentsOf: String(decoding: rawName, as: UTF8.self).utf8)
            }
            cells.append(
                (
                    nameStart..<cellNames.count, index + 1,
                    Entry(site: site, latitude: latitude ?? .nan, longitude: longitude ?? .nan)
                ))
        }
        // With no name given twice, the order by name and line is the order by name.
        let order = Self.byName(cells, cellNames)
        if let repeated = Self.firstRepeat(in: cells, of: cellNames, order: order) {
            throw repeated
        }
        self.names.reserveCapacity(cellNames.count)
        nameEnds.reserveCapacity(order.count)
        entries.reserveCapacity(order.count)
        for index in order {
            let name = cellNames[cells[index].name]
            if !Self.isASCII(name) {
                nonASCII[String(decoding: name, as: UTF8.self)] = Int32(entries.count)
            }
            self.names.append(contentsOf: name)
            nameEnds.append(UInt32(self.names.count))
            entries.append(cells[index].entry)
        }
    }

    /// The cells' positions in the order of their names, and of their lines among equal
    /// names.
    private static func byName(
        _ cells: [(name: Range<Int>, line: Int, entry: Entry)], _ names: [UInt8]
    ) -> [Int] {
        names.withUnsafeBytes { names in
            cells.indices.sorted {
                let order = compare(names, cells[$0].name, names, cells[$1].name)
                return order == 0 ? cells[$0].line < cells[$1].line : order < 0
            }
        }
    }

    /// The earliest line that gives a cell an earlier line gave, as an error naming both.
    ///
    /// Names are the same when their bytes are (`order` puts them together, by line), or
    /// when they are canonically equal strings (a non-ASCII name spelled with other code
    /// points).
    private static func firstRepeat(
        in cells: [(name: Range<Int>, line: Int, entry: Entry)], of bytes: [UInt8],
        order: [Int]
    ) -> CellTableError? {
        var earliest: (line: Int, first: Int, name: Range<Int>)?
        bytes.withUnsafeBytes { bytes in
            for (previous, index) in zip(order, order.dropFirst())
            where compare(bytes, cells[previous].name, bytes, cells[index].name) == 0
                && cells[index].line < (earliest?.line ?? .max)
            {
                earliest = (cells[index].line, cells[previous].line, cells[index].name)
            }
        }
        var firstLines: [String: Int] = [:]
        for cell in cells where !isASCII(bytes[cell.name]) {
            let name = String(decoding: bytes[cell.name], as: UTF8.self)
            guard let first = firstLines[name] else {
                firstLines[name] = cell.line
                continue
            }
            if cell.line < earliest?.line ?? .max { earliest = (cell.line, first, cell.name) }
        }
        guard let earliest else { return nil }
        let name = String(decoding: bytes[earliest.name], as: UTF8.self)
        return CellTableError(
            line: earliest.line,
            reason: "cell \(name) is given twice (first on line \(earliest.first))")
    }

    /// The site of the cell `name`, or `nil` when the table does not list it.
    public func site(ofCell name: String) -> Site? {
        guard Self.isASCII(name.utf8) else {
            return nonASCII[name].map { site(at: Int($0)) }
        }
        var name = name
        return name.withUTF8 { key -> Site? in
            names.withUnsafeBytes { names -> Site? in
                let key = UnsafeRawBufferPointer(key)
                var low = 0
                var high = entries.count
                while low < high {
                    let middle = (low + high) / 2
                    let start = middle == 0 ? 0 : Int(nameEnds[middle - 1])
                    let order = Self.compare(
                        names, start..<Int(nameEnds[middle]), key, 0..<key.count)
                    if order == 0 { return site(at: middle) }
                    if order < 0 {
                        low = middle + 1
                    } else {
                        high = middle
                    }
                }
                return nil
            }
        }
    }

    private static func isASCII<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Bool {
        bytes.allSatisfy { $0 < 0x80 }
    }

    /// How `a[aRange]` orders against `b[bRange]` byte by byte, a prefix first: negative,
    /// zero or positive.
    private static func compare(
        _ a: UnsafeRawBufferPointer, _ aRange: Range<Int>, _ b: UnsafeRawBufferPointer,
        _ bRange: Range<Int>
    ) -> Int {
        guard let aBase = a.baseAddress, let bBase = b.baseAddress else {
            return aRange.count - bRange.count
        }
        let order = memcmp(
            aBase + aRange.lowerBound, bBase + bRange.lowerBound, min(aRange.count, bRange.count))
        return order != 0 ? Int(order) : aRange.count - bRange.count
    }

    /// Every cell's site, in the order of the cells' names.
    public var sitesOfCells: [Site] { entries.indices.map(site(at:)) }

    private func site(at index: Int) -> Site {
        let entry = entries[index]
        return Site(
            name: siteNames[Int(entry.site)],
            latitude: entry.latitude.isNaN ? nil : entry.latitude,
            longitude: entry.longitude.isNaN ? nil : entry.longitude)
    }

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

    private static func isContent(_ line: ArraySlice<UInt8>) -> Bool {
        line.first.map { $0 != 0x23 } ?? false
    }

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

    public var isEmpty: Bool { entries.isEmpty }
}

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

    /// Sets each record's location (`location(of:cells:)`): the cells seen before in one
    /// loop of independent loads, then the others.
    mutating func locate(
        _ items: UnsafeMutableBufferPointer<DetectionStage.Item>, cells: CellInterner
    ) {
        locationOfCell.withUnsafeBufferPointer { known in
            for index in items.indices {
                let cell = Int(items[index].record.cell.rawValue)
                items[index].location = cell < known.count ? known[cell] : -1
            }
        }
        for index in items.indices where items[index].location < 0 {
            items[index].location = location(of: items[index].record.cell, cells: cells)
        }
    }

    /// The location of an interned cell, looked up once per cell.
    mutating func location(of cell: CellID, cells: CellInterner) -> Int32 {
        let index = Int(cell.rawValue)
        if index < locationOfCell.count, locationOfCell[index] >= 0 { return locationOfCell[index] }
        while locationOfCell.count <= index { locationOfCell.append(-1) }
        let name = cells.name(of: cell)
        let site = table.site(ofCell: name)
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
