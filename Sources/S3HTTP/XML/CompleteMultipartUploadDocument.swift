// The request body of CompleteMultipartUpload: every part's number and ETag, in the order given, XML-escaped
// (ETags carry quotes).

import ObjectStore

enum CompleteMultipartUploadDocument {
    static func xml(_ parts: [CompletedPart]) -> [UInt8] {
        var text = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for part in parts {
            text += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(escape(part.etag.value))</ETag></Part>"
        }
        text += "</CompleteMultipartUpload>"
        return Array(text.utf8)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
