// XMLTree: reads a whole S3 response document into a small element tree with FoundationXML's XMLParser,
// so the list and error readers walk plain values. Any parser failure, including a document cut short,
// becomes ClientError(.malformedResponse) naming the line and libxml2's reason.

import Foundation
import ObjectStore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One XML element: its name, its own text (concatenated) and child elements in document order.
struct XMLElementNode: Sendable, Equatable {
    var name: String
    var text: String
    var children: [XMLElementNode]

    /// The first child named `name`.
    func child(_ name: String) -> XMLElementNode? { children.first { $0.name == name } }

    /// The text of the first child named `name`.
    func childText(_ name: String) -> String? { child(name)?.text }

    /// All children named `name`.
    func children(named name: String) -> [XMLElementNode] { children.filter { $0.name == name } }
}

enum XMLTree {
    /// Parses `data`; `what` names the document in error details ("ListObjectsV2 response").
    static func parse(_ data: [UInt8], what: String) throws(ClientError) -> XMLElementNode {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(data))
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let ok = parser.parse()
        guard ok, builder.failure == nil, let root = builder.root else {
            let reason = builder.failure ?? parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element"
            throw ClientError(
                kind: .malformedResponse,
                detail: "\(what): invalid XML at line \(parser.lineNumber): \(reason) (\(data.count) bytes)")
        }
        return root
    }
}

/// XMLParser delegate that builds the tree. Used synchronously by one `parse` call only.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    private var stack: [XMLElementNode] = []
    private(set) var root: XMLElementNode?
    private(set) var failure: String?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if root != nil { failure = "content after the root element" }
        stack.append(XMLElementNode(name: elementName, text: "", children: []))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if !stack.isEmpty { stack[stack.count - 1].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let finished = stack.popLast() else { return }
        if stack.isEmpty {
            root = finished
        } else {
            stack[stack.count - 1].children.append(finished)
        }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        if failure == nil { failure = "\(parseError.localizedDescription)" }
    }

    func parserDidEndDocument(_ parser: XMLParser) {
        if !stack.isEmpty, failure == nil { failure = "document ends inside <\(stack.last!.name)>" }
    }
}
