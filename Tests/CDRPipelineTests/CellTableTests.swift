import CDRRecords
import CDRSimulation
import Testing

@testable import CDRPipeline

/// The cell table's sorted arrays and binary search against a `Dictionary` of the same
/// rows, and its errors against the order of the file.
struct CellTableTests {
    static func table(_ rows: [String]) throws(CellTableError) -> CellTable {
        try CellTable(bytes: Array((["cell,site,lat,lon"] + rows).joined(separator: "\n").utf8))
    }

    @Test func findsEverySiteADictionaryFinds() throws {
        var random = SimulationRandom(seed: 41, stream: 9)
        for round in 0..<40 {
            var reference: [String: CellTable.Site] = [:]
            var rows: [String] = []
            let alphabet = Array("0123456789-".utf8)
            func name() -> String {
                // Short names over few bytes: shared prefixes, and names that prefix others.
                let length = 1 + random.int(0..<(random.chance(0.2) ? 20 : 6))
                return String(
                    decoding: (0..<length).map { _ in alphabet[random.int(0..<alphabet.count)] },
                    as: UTF8.self)
            }
            for _ in 0..<random.int(0..<300) {
                let cell = name()
                guard reference[cell] == nil else { continue }
                let site = "S\(random.int(0..<40))"
                let hasPlace = random.chance(0.8)
                let latitude = hasPlace ? Double(random.int(-9000..<9000)) / 100 : nil
                let longitude = hasPlace ? Double(random.int(-18000..<18000)) / 100 : nil
                reference[cell] = CellTable.Site(
                    name: site, latitude: latitude, longitude: longitude)
                rows.append(
                    "\(cell),\(site),\(latitude.map { "\($0)" } ?? ""),\(longitude.map { "\($0)" } ?? "")"
                )
            }
            let table = try Self.table(rows)
            #expect(table.cellCount == reference.count, "round \(round)")
            for (cell, site) in reference {
                #expect(table.site(ofCell: cell) == site, "round \(round): \(cell)")
            }
            for _ in 0..<200 {
                let probe = name()
                #expect(table.site(ofCell: probe) == reference[probe], "round \(round): \(probe)")
            }
            #expect(
                table.sitesOfCells
                    == reference.keys.sorted {
                        Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
                    }.map { reference[$0]! })
        }
    }

    /// Names that are not ASCII: a Latin-1 byte is found by the name the detector gives the
    /// same bytes (decoded, with U+FFFD), and two spellings of "é" are one cell.
    @Test func findsNamesThatAreNotASCIIAsStringsCompare() throws {
        var bytes = Array("cell,site,lat,lon\nZ".utf8) + [0xFC] + Array("rich-1,S1,1,2\n".utf8)
        bytes += Array("caf\u{E9}-2,S2,3,4\n".utf8)
        let table = try CellTable(bytes: bytes)
        let latin1 = String(
            decoding: Array("Z".utf8) + [0xFC] + Array("rich-1".utf8), as: UTF8.self)
        #expect(table.site(ofCell: latin1)?.name == "S1")
        #expect(table.site(ofCell: "cafe\u{301}-2")?.name == "S2")
        #expect(table.site(ofCell: "cafe-2") == nil)
        #expect(
            throws: CellTableError(
                line: 3, reason: "cell cafe\u{301} is given twice (first on line 2)")
        ) {
            try Self.table(["caf\u{E9},S1,,", "cafe\u{301},S2,,"])
        }
    }

    @Test func namesTheFirstProblemOfTheFile() {
        // A cell given again, and a bad latitude: whichever line comes first is reported.
        let repeated = ["c1,S1,1,2", "c2,S1,1,2", "c1,S2,3,4", "c3,S3,91,0"]
        #expect(throws: CellTableError(line: 4, reason: "cell c1 is given twice (first on line 2)"))
        {
            try Self.table(repeated)
        }
        let badFirst = ["c1,S1,1,2", "c2,S1,1,2", "c3,S3,91,0", "c1,S2,3,4"]
        #expect(throws: CellTableError(line: 4, reason: "lat must be within -90...90, not 91")) {
            try Self.table(badFirst)
        }
        // Of two cells given again, the one repeated first in the file.
        let twice = ["b,S,,", "a,S,,", "b,S,,", "a,S,,", "b,S,,"]
        #expect(throws: CellTableError(line: 4, reason: "cell b is given twice (first on line 2)"))
        {
            try Self.table(twice)
        }
    }
    /// The quick reading of coordinates against `Double(String)`, bit for bit, over the
    /// forms it reads itself and those it leaves to `Double(String)`.
    @Test func readsCoordinatesAsDoubleFromStringDoes() {
        var random = SimulationRandom(seed: 43, stream: 1)
        let fixed = [
            "0", "-0", "-0.0", "00.50", "1.", ".5", "-.5", "+5", "1e3", "1E-2", "nan", "inf",
            "-", ".", "", " 1", "1 ", "1..2", "1-2", "123456789012345", "1234567890123456",
            "0.000000000000001", "9007199254740993", "90.0000000000001", "-180.00000000000",
        ]
        var inputs = fixed
        let alphabet = Array("0123456789012345678901234567890123456789.-+e ".utf8)
        for _ in 0..<20_000 {
            let length = random.int(1..<20)
            var bytes = (0..<length).map { _ in UInt8(ascii: "0") + UInt8(random.int(0..<10)) }
            if random.chance(0.8) { bytes.insert(0x2E, at: random.int(0..<(bytes.count + 1))) }
            if random.chance(0.4) { bytes.insert(0x2D, at: 0) }
            if random.chance(0.1) {
                bytes[random.int(0..<bytes.count)] = alphabet[random.int(0..<alphabet.count)]
            }
            inputs.append(String(decoding: bytes, as: UTF8.self))
        }
        for input in inputs {
            let quick = CellTable.decimal(ArraySlice(input.utf8))
            let reference = Double(input)
            #expect(
                quick?.bitPattern == reference?.bitPattern
                    || (quick?.isNaN == true && reference?.isNaN == true), "\(input)")
        }
    }

    /// Cells found by their tokens' bytes and located by site number, against a model that
    /// names each location by its site's or its cell's name in the order first met, and
    /// against a second index restored from the first's locations.
    /// (Rows shuffled, and in site order: a site's cells together, as tables usually list them.)
    @Test(arguments: [true, false])
    func locatesCellsAsTheirNamesWould(shuffled: Bool) throws {
        var random = SimulationRandom(seed: 47, stream: 2)
        var rows: [String] = []
        var listed: [String] = []
        for site in 0..<30 {
            for sector in 0..<random.int(1..<5) {
                let cell = "460-00-\(site)-\(sector)"
                listed.append(cell)
                rows.append("\(cell),S\(site % 25),\(site).5,\(sector).25")
            }
        }
        rows.append("Z\u{FC}rich-1,S3,1,2")
        rows.append("caf\u{E9}-2,S40,,")
        listed += [
            "Z\u{FC}rich-1", "cafe\u{301}-2", String(decoding: [0x5A, 0xFC], as: UTF8.self),
        ]
        if shuffled { rows.shuffle(using: &random) }
        let table = try Self.table(rows)
        let cells = CellInterner()
        var index = LocationIndex(table: table)
        var reference: [String: Int32] = [:]
        var names: [String] = []
        var sites: [CellTable.Site?] = []
        var sequence: [CellID] = []
        for _ in 0..<2_000 {
            let name =
                random.chance(0.8)
                ? listed[random.int(0..<listed.count)] : "unlisted-\(random.int(0..<50))"
            let cell = cells.intern(name)
            sequence.append(cell)
            let site = table.site(ofCell: cells.name(of: cell))
            let key = site.map { "site " + $0.name } ?? "cell " + cells.name(of: cell)
            if reference[key] == nil {
                reference[key] = Int32(names.count)
                names.append(site?.name ?? cells.name(of: cell))
                sites.append(site)
            }
            let location = index.location(of: cell, cells: cells)
            #expect(location == reference[key], "\(name)")
        }
        #expect(index.locations.map(\.name) == names)
        // A site's location has the coordinates of the first of its cells met.
        #expect(index.locations.map(\.site) == sites)
        var restored = LocationIndex(table: table)
        let restoredAll = restored.restore(index.locations)
        #expect(restoredAll)
        for cell in sequence {
            let again = restored.location(of: cell, cells: cells)
            #expect(again == index.location(of: cell, cells: cells))
        }
        #expect(restored.locations.count == index.locations.count)
        // Two saved locations that are one: a site's, or a cell's the table does not list.
        for kept in [
            index.locations.firstIndex { $0.site != nil },
            index.locations.firstIndex { $0.site == nil },
        ] {
            var twice = LocationIndex(table: table)
            let restoredTwice = twice.restore(
                index.locations + [index.locations[try #require(kept)]])
            #expect(!restoredTwice)
        }
    }
}
