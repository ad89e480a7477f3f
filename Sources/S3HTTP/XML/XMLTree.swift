// XMLTree: reads a whole S3 response document into a small element tree with FoundationXML's XMLParser,
// so the list and error readers walk plain values. Any parser failure, including a document cut short,
// becomes ClientError(.malformedResponse) naming the line and libxml2's reason. A document that is not UTF-8 (as
// S3 always writes) is refused before XMLParser sees it: FoundationXML traps on an element name that is not UTF-8
// (found by the list-objects fuzz target: "<\xED)I\xEF"). So is one with a processing instruction other than the
// leading XML declaration, which S3 never writes: FoundationXML crashes on one without data, "<?pi?>" (a NULL
// strlen; found by the error-document fuzz target).

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
        guard String(validating: data, as: UTF8.self) != nil else {
            throw ClientError(kind: .malformedResponse, detail: "\(what): not UTF-8 (\(data.count) bytes)")
        }
        if let offset = processingInstruction(in: data) {
            throw ClientError(
                kind: .malformedResponse,
                detail: "\(what): a processing instruction at byte \(offset) (\(data.count) bytes)")
        }
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

    /// The offset of the first "<?" that is not the XML declaration at the document's start (after a byte order
    /// mark, if any); nil if there is none.
    private static func processingInstruction(in data: [UInt8]) -> Int? {
        let start = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var offset = start
        while let found = data[offset...].firstIndex(of: UInt8(ascii: "<")) {
            offset = found + 1
            guard offset < data.count, data[offset] == UInt8(ascii: "?") else { continue }
            let isDeclaration =
                found == start && data[(offset + 1)...].starts(with: Array("xml".utf8)) && data.count > offset + 4
                && [0x20, 0x09, 0x0D, 0x0A].contains(data[offset + 4])
            if !isDeclaration { return found }
        }
        return nil
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
