import Plot

/// Body nodes, the one context the report builds in.
typealias BodyNode = Node<HTML.BodyContext>

/// Escaping for everything the report writes, on top of Plot's tree and renderer.
///
/// Plot escapes `<` and `>` in text but keeps sequences that look like entities (`&amp;`)
/// and writes attribute values as given; a value from a decision (a cluster id, a site, an
/// evidence line) must come out as its own characters, so every value passes through here.
enum Markup {
    /// A value as text, every character its own (`&amp;` in a value reads `&amp;`).
    static func text(_ value: String) -> BodyNode {
        // Plot escapes `<` and `>`; `&` is escaped here, and Plot then keeps the `&amp;`.
        .text(value.replacingOccurrences(of: "&", with: "&amp;"))
    }

    /// A value made safe inside a double-quoted attribute.
    static func attributeValue(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// An attribute whose value is escaped.
    static func attribute(_ name: String, _ value: String) -> BodyNode {
        .attribute(named: name, value: attributeValue(value), ignoreIfValueIsEmpty: false)
    }

    /// An element with escaped attributes and the given children (SVG, and HTML elements
    /// whose attributes carry values).
    static func element(
        _ name: String, _ attributes: KeyValuePairs<String, String> = [:],
        _ children: [BodyNode] = []
    ) -> BodyNode {
        .element(named: name, nodes: attributes.map { attribute($0.key, $0.value) } + children)
    }

    /// An element from attributes held in an array (built in a loop).
    static func element(
        _ name: String, attributes: [(String, String)], _ children: [BodyNode] = []
    ) -> BodyNode {
        .element(named: name, nodes: attributes.map { attribute($0.0, $0.1) } + children)
    }

    /// An element with an optional class and children: the report's tables, lists and
    /// cells, built in one context.
    static func tag(_ name: String, class className: String? = nil, _ children: BodyNode...)
        -> BodyNode
    {
        tag(name, class: className, children)
    }

    static func tag(_ name: String, class className: String? = nil, _ children: [BodyNode])
        -> BodyNode
    {
        let attributes = className.map { [attribute("class", $0)] } ?? []
        return .element(named: name, nodes: attributes + children)
    }

    /// A fragment identifier made of the value's letters, digits and `-`, with every other
    /// byte as `_XX`: distinct values give distinct ids, and none needs escaping.
    static func fragment(_ prefix: String, _ value: String) -> String {
        var id = prefix
        for byte in value.utf8 {
            let isPlain =
                (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90)
                || (byte >= 97 && byte <= 122) || byte == 45
            if isPlain {
                id.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                id += "_" + String(byte, radix: 16, uppercase: true)
            }
        }
        return id
    }

    /// A number with at most `digits` decimals, without trailing zeros (`3.237`, `4`).
    static func number(_ value: Double, digits: Int = 3) -> String {
        guard value.isFinite else { return "–" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded(.towardZero), abs(rounded) < 1e15 {
            return String(Int(rounded))
        }
        var text = String(rounded)
        if text.contains("e") { return text }
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
