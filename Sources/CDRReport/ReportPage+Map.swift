import Foundation
import Plot

// MARK: - The map: the city's cells faint, flagged sites bright, mobile clusters as paths

extension ReportPage {
    /// A point of the map in degrees.
    struct Place: Equatable {
        var latitude: Double
        var longitude: Double
    }

    /// Sites of the cell table with coordinates, each once, in name order.
    var backgroundSites: [Place] {
        guard let cells else { return [] }
        var byName: [String: Place] = [:]
        for site in cells.sitesOfCells {
            guard let latitude = site.latitude, let longitude = site.longitude else { continue }
            byName[site.name] = Place(latitude: latitude, longitude: longitude)
        }
        return byName.keys.sorted().compactMap { byName[$0] }
    }

    /// Where a decision places its cluster: its own coordinates, else the cell table's for
    /// its location (a site or a cell) or its first cell.
    func place(of decision: ReportDecision) -> Place? {
        if let latitude = decision.lat, let longitude = decision.lon {
            return Place(latitude: latitude, longitude: longitude)
        }
        guard let cells else { return nil }
        let candidates = [decision.location] + decision.cells
        for name in candidates {
            if let site = cells.site(ofCell: name), let latitude = site.latitude,
                let longitude = site.longitude
            {
                return Place(latitude: latitude, longitude: longitude)
            }
        }
        if let site = cells.sitesOfCells.first(where: { $0.name == decision.location }),
            let latitude = site.latitude, let longitude = site.longitude
        {
            return Place(latitude: latitude, longitude: longitude)
        }
        return nil
    }

    /// The places a cluster was decided at, in order, without repeats in a row.
    func route(of cluster: ReportCluster) -> [Place] {
        var route: [Place] = []
        for decision in cluster.decisions {
            guard let place = place(of: decision), place != route.last else { continue }
            route.append(place)
        }
        return route
    }

    /// Degrees to SVG units: equirectangular, longitudes shrunk by the cosine of the middle
    /// latitude so a city's distances look right.
    struct Projection {
        var minLatitude: Double
        var maxLatitude: Double
        var minLongitude: Double
        var shrink: Double
        var scale: Double
        var margin: Double
        var width: Double
        var height: Double

        init?(_ places: [Place], width: Double) {
            guard let first = places.first else { return nil }
            var minLat = first.latitude
            var maxLat = first.latitude
            var minLon = first.longitude
            var maxLon = first.longitude
            for place in places {
                minLat = min(minLat, place.latitude)
                maxLat = max(maxLat, place.latitude)
                minLon = min(minLon, place.longitude)
                maxLon = max(maxLon, place.longitude)
            }
            // A single site still gets a neighbourhood of about a kilometre around it.
            let pad = 0.005
            minLat -= pad
            maxLat += pad
            minLon -= pad
            maxLon += pad
            shrink = max(cos((minLat + maxLat) / 2 * .pi / 180), 0.01)
            margin = 28
            let spanX = (maxLon - minLon) * shrink
            let spanY = maxLat - minLat
            let inner = width - 2 * margin
            scale = min(inner / spanX, inner * 0.75 / spanY)
            minLatitude = minLat
            maxLatitude = maxLat
            minLongitude = minLon
            self.width = width
            height = spanY * scale + 2 * margin
        }

        /// The place in SVG units.
        func point(_ place: Place) -> (x: Double, y: Double) {
            (
                margin + (place.longitude - minLongitude) * shrink * scale,
                margin + (maxLatitude - place.latitude) * scale
            )
        }

        func x(_ place: Place) -> String { Markup.number(point(place).x, digits: 1) }

        func y(_ place: Place) -> String { Markup.number(point(place).y, digits: 1) }

        /// A scale bar of a round number of kilometres, at most 160 units long.
        var scaleBar: (kilometres: Double, length: Double) {
            let unitsPerKilometre = scale / 111.32
            let choices = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
            let kilometres = choices.last { $0 * unitsPerKilometre <= 160 } ?? choices[0]
            return (kilometres, kilometres * unitsPerKilometre)
        }
    }

    func mapSection() -> BodyNode {
        let background = backgroundSites
        let routes = clusters.map { (cluster: $0, route: route(of: $0)) }
        let all = background + routes.flatMap(\.route)
        guard let projection = Projection(all, width: 900) else {
            return .section(
                .id("map-section"), .h2("Map"),
                .p(
                    .class("note"),
                    .text(
                        "No coordinates: the decisions carry none and no --cells table was "
                            + "given, so there is no map.")))
        }
        var nodes: [BodyNode] = [
            Markup.element("title", [:], [.text("Flagged sites on the cell map")]),
            Markup.element(
                "rect",
                attributes: [
                    ("x", "0"), ("y", "0"), ("width", Markup.number(projection.width)),
                    ("height", Markup.number(projection.height)), ("class", "map-ground"),
                ]),
        ]
        nodes.append(
            Markup.element(
                "g", ["class": "cells"],
                background.map { place in
                    Markup.element(
                        "circle",
                        attributes: [
                            ("cx", projection.x(place)), ("cy", projection.y(place)), ("r", "2.2"),
                        ])
                }))
        var labelsAt: [String: Int] = [:]
        for (cluster, route) in routes {
            guard let last = route.last else { continue }
            let colour = Self.colour(of: cluster.severity)
            var mark: [BodyNode] = [
                Markup.element(
                    "title", [:],
                    [.text("\(cluster.id): \(cluster.latest.location), \(cluster.severity)")])
            ]
            if route.count > 1 {
                let points = route.map { "\(projection.x($0)),\(projection.y($0))" }
                mark.append(
                    Markup.element(
                        "polyline",
                        attributes: [
                            ("points", points.joined(separator: " ")), ("class", "route"),
                            ("stroke", colour),
                        ]))
                for stop in route.dropLast() {
                    mark.append(
                        Markup.element(
                            "circle",
                            attributes: [
                                ("cx", projection.x(stop)), ("cy", projection.y(stop)),
                                ("r", "3.5"),
                                ("class", "stop"), ("stroke", colour),
                            ]))
                }
            }
            let radius = 5 + 1.2 * Double(cluster.latest.sims.count).squareRoot()
            mark.append(
                Markup.element(
                    "circle",
                    attributes: [
                        ("cx", projection.x(last)), ("cy", projection.y(last)),
                        ("r", Markup.number(radius, digits: 1)), ("class", "site"),
                        ("fill", colour),
                    ]))
            let key = "\(projection.x(last)),\(projection.y(last))"
            let stacked = labelsAt[key, default: 0]
            labelsAt[key] = stacked + 1
            mark.append(
                Markup.element(
                    "text",
                    attributes: [
                        ("x", Markup.number(projection.point(last).x + radius + 3, digits: 1)),
                        (
                            "y",
                            Markup.number(
                                projection.point(last).y + 4 + 13 * Double(stacked), digits: 1)
                        ),
                        ("class", "label"),
                    ], [Markup.text(cluster.id)]))
            nodes.append(
                Markup.element(
                    "a", ["href": "#" + Markup.fragment("cluster-", cluster.id)],
                    [Markup.element("g", ["class": "cluster-mark"], mark)]))
        }
        let bar = projection.scaleBar
        let barY = projection.height - 12
        nodes.append(
            Markup.element(
                "g", ["class": "scale"],
                [
                    Markup.element(
                        "line",
                        attributes: [
                            ("x1", "12"), ("x2", Markup.number(12 + bar.length, digits: 1)),
                            ("y1", Markup.number(barY)), ("y2", Markup.number(barY)),
                        ]),
                    Markup.element(
                        "text",
                        attributes: [
                            ("x", Markup.number(16 + bar.length, digits: 1)),
                            ("y", Markup.number(barY + 4)),
                        ], [.text("\(Markup.number(bar.kilometres)) km")]),
                ]))
        let caption =
            background.isEmpty
            ? "Flagged sites (no --cells table: only the decisions' own coordinates)."
            : "Grey dots: the \(background.count) sites of the cell table. Coloured: flagged "
                + "sites by severity, sized by SIMs; a line is a cluster that moved, ending "
                + "where it was last decided. Click one for its card."
        return .section(
            .id("map-section"),
            .h2("Map"),
            Markup.element(
                "svg",
                attributes: [
                    ("id", "map"), ("class", "map"), ("role", "img"),
                    (
                        "viewBox",
                        "0 0 \(Markup.number(projection.width)) "
                            + Markup.number(projection.height, digits: 1)
                    ),
                ], nodes),
            .p(.class("note"), .text(caption))
        )
    }
}
