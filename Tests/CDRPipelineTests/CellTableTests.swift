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
}
