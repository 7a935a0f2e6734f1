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
        // (Still 6,700 instructions a cell after that, in reading the coordinates with
        // `strtod`, a site name a line, and a field array a line: about 3,000 now, the sort
        // by name included.)
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
        // The cells whose names are not ASCII (in most tables none): found once, as read.
        var nonASCIICells: [Int] = []
        var siteNumbers: [String: UInt32] = [:]
        // A site's cells are usually listed together: the site of the line before, by bytes.
        var previousSite: (bytes: Range<Int>, number: UInt32)?
        var fields: [Range<Int>] = []
        for index in lines.indices.dropFirst(headerIndex + 1) {
            let line = bytes[lines[index]]
            guard Self.isContent(line) else { continue }
            @inline(__always) func fail(_ reason: String) -> CellTableError {
                // A cell given twice on an earlier line is the first problem in the file.
                Self.firstRepeat(
                    in: cells, of: cellNames, order: Self.byName(cells, cellNames),
                    nonASCII: nonASCIICells) ?? CellTableError(line: index + 1, reason: reason)
            }
            Self.fields(of: line, delimiter, into: &fields)
            @inline(__always) func text(_ column: Int) -> String {
                String(decoding: bytes[fields[column]], as: UTF8.self)
            }
            guard fields.count == names.count, !fields[cellColumn].isEmpty,
                !fields[siteColumn].isEmpty
            else {
                throw fail("expected \(names.count) fields with a cell and a site")
            }
            // A coordinate, `nil` when its column is absent or empty.
            func degrees(_ column: Int?) throws(CellTableError) -> Double? {
                guard let column, !fields[column].isEmpty else { return nil }
                guard let value = Self.decimal(bytes[fields[column]]) else {
                    throw fail("lat and lon must be decimal degrees")
                }
                return value
            }
            let latitude = try degrees(latColumn)
            let longitude = try degrees(lonColumn)
            if let latColumn, let latitude, !(-90...90).contains(latitude) {
                throw fail("lat must be within -90...90, not \(text(latColumn))")
            }
            if let lonColumn, let longitude, !(-180...180).contains(longitude) {
                throw fail("lon must be within -180...180, not \(text(lonColumn))")
            }
            let siteBytes = fields[siteColumn]
            let site: UInt32
            if let previousSite, bytes[previousSite.bytes] == bytes[siteBytes] {
                site = previousSite.number
            } else {
                let siteName = text(siteColumn)
                if let known = siteNumbers[siteName] {
                    site = known
                } else {
                    site = UInt32(siteNames.count)
                    siteNumbers[siteName] = site
                    siteNames.append(siteName)
                }
            }
            previousSite = (siteBytes, site)
            let nameStart = cellNames.count
            let rawName = bytes[fields[cellColumn]]
            if Self.isASCII(rawName) {
                cellNames.append(contentsOf: rawName)
            } else {
                nonASCIICells.append(cells.count)
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
        if let repeated = Self.firstRepeat(
            in: cells, of: cellNames, order: order, nonASCII: nonASCIICells)
        {
            throw repeated
        }
        self.names.reserveCapacity(cellNames.count)
        nameEnds.reserveCapacity(order.count)
        entries.reserveCapacity(order.count)
        var place = [Int32](repeating: 0, count: nonASCIICells.isEmpty ? 0 : cells.count)
        for index in order {
            let name = cellNames[cells[index].name]
            if !place.isEmpty { place[index] = Int32(entries.count) }
            self.names.append(contentsOf: name)
            nameEnds.append(UInt32(self.names.count))
            entries.append(cells[index].entry)
        }
        for index in nonASCIICells {
            nonASCII[String(decoding: cellNames[cells[index].name], as: UTF8.self)] = place[index]
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
    /// points; `nonASCII` lists those cells).
    private static func firstRepeat(
        in cells: [(name: Range<Int>, line: Int, entry: Entry)], of bytes: [UInt8],
        order: [Int], nonASCII: [Int]
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
        for cell in nonASCII.map({ cells[$0] }) {
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
        var name = name
        return name.withUTF8 { entry(ofCell: UnsafeRawBufferPointer($0)) }.map(site(at:))
    }

    /// Where the table lists the cell whose name is `token`'s bytes, or `nil` when it does
    /// not: an ASCII name by its bytes, another as strings compare (canonically equal
    /// spellings are one cell).
    func entry(ofCell token: UnsafeRawBufferPointer) -> Int? {
        guard Self.isASCII(token) else {
            return nonASCII[String(decoding: token, as: UTF8.self)].map(Int.init)
        }
        return entry(ofASCII: token)
    }

    /// The number of a listed cell's site, in `0..<siteCount`: one per site name.
    func siteNumber(atEntry entry: Int) -> Int { Int(entries[entry].site) }

    /// The number of distinct sites.
    var siteCount: Int { siteNames.count }

    /// Each site's number (`siteNumber(atEntry:)`) by its name.
    var siteNumbersByName: [String: Int] {
        Dictionary(uniqueKeysWithValues: siteNames.enumerated().map { ($1, $0) })
    }

    /// The index of the cell named `key`, by a binary search of the names' bytes.
    private func entry(ofASCII key: UnsafeRawBufferPointer) -> Int? {
        names.withUnsafeBytes { names -> Int? in
            var low = 0
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                let start = middle == 0 ? 0 : Int(nameEnds[middle - 1])
                let order = Self.compare(names, start..<Int(nameEnds[middle]), key, 0..<key.count)
                if order == 0 { return middle }
                if order < 0 {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            return nil
        }
    }

    private static func isASCII(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBytes { isASCII($0) }
    }

    /// Whether no byte has its top bit set, eight bytes at a time.
    private static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index &+ 8 <= bytes.count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if word & 0x8080_8080_8080_8080 != 0 { return false }
            index &+= 8
        }
        while index < bytes.count {
            if bytes[index] >= 0x80 { return false }
            index &+= 1
        }
        return true
    }

    /// The value of a decimal number, as `Double(String)` reads it.
    ///
    /// The usual coordinate (`-?digits.digits`, at most 15 digits) is read here: its digits
    /// make an integer below 2^53 and its fraction a power of ten of at most 10^15, both exact in
    /// a `Double`, so one division rounds correctly (Clinger's fast path) and gives what
    /// `strtod` gives. Anything else (exponents, `+`, more digits, `nan`) goes to
    /// `Double(String)`.
    static func decimal(_ field: ArraySlice<UInt8>) -> Double? {
        let exact = field.withUnsafeBytes { bytes -> Double? in
            var index = 0
            let isNegative = bytes.first == 0x2D
            if isNegative { index = 1 }
            var mantissa: UInt64 = 0
            var digits = 0
            var fractionDigits = 0
            var integerDigits = 0
            var seenPoint = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x2E, !seenPoint {
                    seenPoint = true
                } else if byte &- 0x30 < 10 {
                    mantissa = mantissa &* 10 &+ UInt64(byte &- 0x30)
                    digits &+= 1
                    if seenPoint { fractionDigits &+= 1 } else { integerDigits &+= 1 }
                } else {
                    return nil
                }
                index &+= 1
            }
            guard integerDigits > 0, !seenPoint || fractionDigits > 0, digits <= 15 else {
                return nil
            }
            let magnitude = Double(mantissa) / powersOfTen[fractionDigits]
            return isNegative ? -magnitude : magnitude
        }
        return exact ?? Double(String(decoding: field, as: UTF8.self))
    }

    /// The powers of ten from 10^0 to 10^15, each exact in a `Double`.
    private static let powersOfTen: [Double] = (0...15).map { power in
        (0..<power).reduce(1.0) { value, _ in value * 10 }
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

    /// The site of a listed cell, with the cell's coordinates.
    func site(at index: Int) -> Site {
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
        Self.fields(of: line, delimiter, into: &fields)
        return fields
    }

    /// The fields' ranges in `fields`, whose storage is kept from line to line.
    private static func fields(
        of line: ArraySlice<UInt8>, _ delimiter: UInt8, into fields: inout [Range<Int>]
    ) {
        fields.removeAll(keepingCapacity: true)
        var start = line.startIndex
        while let end = line[start...].firstIndex(of: delimiter) {
            fields.append(start..<end)
            start = end + 1
        }
        fields.append(start..<line.endIndex)
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
    /// The locations of cells the table does not list, by the cell's name.
    private var numberOfUnlistedCell: [String: Int32] = [:]
    /// Cell id → location number (-1: not looked up yet).
    private var locationOfCell: [Int32] = []
    /// Site number in `table` → location number (-1: no cell of it looked up yet).
    private var locationOfSite: [Int32]

    init(table: CellTable) {
        self.table = table
        locationOfSite = Array(repeating: -1, count: table.siteCount)
    }

    /// Takes the locations of an earlier run, numbered as they were (the detector's saved
    /// state refers to them by number); cells find theirs again as they appear.
    ///
    /// - Returns: `false` when two of them are one location (a damaged or forged file).
    mutating func restore(_ saved: [Location]) -> Bool {
        locations = saved
        numberOfUnlistedCell = [:]
        locationOfCell = []
        locationOfSite = Array(repeating: -1, count: table.siteCount)
        let siteNumbers = table.siteNumbersByName
        var savedSites: Set<String> = []
        for (number, location) in saved.enumerated() {
            guard let site = location.site else {
                guard numberOfUnlistedCell.updateValue(Int32(number), forKey: location.name) == nil
                else { return false }
                continue
            }
            guard savedSites.insert(site.name).inserted else { return false }
            // A site this table no longer lists keeps its number; no cell comes to it.
            if let siteNumber = siteNumbers[site.name] {
                locationOfSite[siteNumber] = Int32(number)
            }
        }
        return true
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

    /// The location of an interned cell, looked up once per cell: its site's, or its own when
    /// the table does not list it; numbered when first met.
    ///
    /// A listed cell is found by its token's bytes and its site by number, so no `String` is
    /// made but once per site (with 60,000 cells, strings and keys for each cost 0.05 s of a
    /// day's parsing). A site's location takes the coordinates of its first cell met.
    mutating func location(of cell: CellID, cells: CellInterner) -> Int32 {
        let index = Int(cell.rawValue)
        if index < locationOfCell.count, locationOfCell[index] >= 0 { return locationOfCell[index] }
        while locationOfCell.count <= index { locationOfCell.append(-1) }
        let number: Int32
        if !table.isEmpty, let entry = cells.withToken(of: cell, table.entry(ofCell:)) {
            let siteNumber = table.siteNumber(atEntry: entry)
            if locationOfSite[siteNumber] < 0 {
                let site = table.site(at: entry)
                locationOfSite[siteNumber] = Int32(locations.count)
                locations.append(Location(name: site.name, site: site))
            }
            number = locationOfSite[siteNumber]
        } else {
            let name = cells.name(of: cell)
            if let known = numberOfUnlistedCell[name] {
                number = known
            } else {
                number = Int32(locations.count)
                numberOfUnlistedCell[name] = number
                locations.append(Location(name: name, site: nil))
            }
        }
        locationOfCell[index] = number
        return number
    }
}
