import CDRRecords

/// The simulated radio network: sites on a grid around a city centre, three sectors (cells)
/// each, with the cell table an operator keeps (`cell,site,lat,lon`).
public struct City: Sendable {
    /// One site: a mast with three sectors.
    public struct Site: Sendable {
        public var name: String
        public var latitude: Double
        public var longitude: Double
        /// Grid position, for finding neighbours.
        public var row: Int
        public var column: Int
    }

    public let sites: [Site]
    /// Cell tokens (`460-00-LAC-CI`) indexed by cell id; site `s` owns cells `3s`, `3s+1`, `3s+2`.
    public let cellNames: [[UInt8]]
    public let columns: Int

    public static let sectorsPerSite = 3

    /// Lays out `siteCount` sites about 500 m apart around 31.2304 N, 121.4737 E.
    public init(siteCount: Int) {
        let columns = max(1, Int(Double(siteCount).squareRoot().rounded(.up)))
        var sites: [Site] = []
        var cellNames: [[UInt8]] = []
        for index in 0..<siteCount {
            let row = index / columns
            let column = index % columns
            let site = Site(
                name: "S" + String(100_000 + index).dropFirst(),
                latitude: 31.2304 + Double(row - columns / 2) * 0.0045,
                longitude: 121.4737 + Double(column - columns / 2) * 0.0053,
                row: row, column: column)
            sites.append(site)
            let lac = 4000 + index / 64
            for sector in 0..<Self.sectorsPerSite {
                cellNames.append(Array("460-00-\(lac)-\(10_000 + index * 10 + sector)".utf8))
            }
        }
        self.sites = sites
        self.cellNames = cellNames
        self.columns = columns
    }

    public var cellCount: Int { cellNames.count }

    public func cell(site: Int, sector: Int) -> CellID {
        CellID(rawValue: UInt32(site * Self.sectorsPerSite + sector))
    }

    public func site(of cell: CellID) -> Int { Int(cell.rawValue) / Self.sectorsPerSite }

    public func name(of cell: CellID) -> String {
        String(decoding: cellNames[Int(cell.rawValue)], as: UTF8.self)
    }

    /// A site next to `site` on the grid (for vehicles moving through the city).
    public func neighbour(of site: Int, direction: Int) -> Int {
        let step = [(0, 1), (1, 0), (0, -1), (-1, 0)][direction & 3]
        let row = min(max(sites[site].row + step.0, 0), (sites.count - 1) / columns)
        let column = min(max(sites[site].column + step.1, 0), columns - 1)
        return min(row * columns + column, sites.count - 1)
    }

    /// The cell table as CSV: `cell,site,lat,lon`, one line per cell.
    public func cellTable() -> [UInt8] {
        var bytes = Array("cell,site,lat,lon\n".utf8)
        for (index, name) in cellNames.enumerated() {
            let site = sites[index / Self.sectorsPerSite]
            bytes.append(contentsOf: name)
            bytes.append(
                contentsOf:
                    ",\(site.name),\(formatCoordinate(site.latitude)),\(formatCoordinate(site.longitude))\n"
                    .utf8)
        }
        return bytes
    }
}

/// Six decimals (about 10 cm), the same on every machine.
func formatCoordinate(_ value: Double) -> String {
    let micro = Int64((value * 1_000_000).rounded())
    let sign = micro < 0 ? "-" : ""
    let magnitude = micro.magnitude
    let fraction = String(magnitude % 1_000_000)
    return sign + String(magnitude / 1_000_000) + "."
        + String(repeating: "0", count: 6 - fraction.count) + fraction
}
