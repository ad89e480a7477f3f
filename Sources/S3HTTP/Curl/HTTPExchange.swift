// The values that cross the transfer engine: what to send and what came back.

import ObjectStore

/// One HTTP request, ready to send: URL already encoded, headers already signed.
struct HTTPRequest: Sendable {
    enum Method: String, Sendable {
        case get = "GET"
        case head = "HEAD"
        case put = "PUT"
        case post = "POST"
        case delete = "DELETE"
    }

    var method: Method
    var url: String
    /// Full header lines ("Name: value"), sent as given.
    var headerLines: [String]
    /// For a ranged GET: the bytes wanted. A server that ignores Range and answers 200 with the whole object
    /// (some S3 gateways do) is sliced to this window while streaming, so the rest is never buffered.
    var bodyWindow: ByteRange?
    /// Where a successful (2xx) body goes as it arrives, instead of being collected in `HTTPResponse.body`.
    var bodySink: (any ByteSink)?
    /// What a PUT or POST sends (nil: an empty body). Each transfer reads it afresh from its start.
    var uploadBody: UploadBody?
    /// Seconds the whole exchange may take (nil: no bound but the engine's stall timeout). Credential lookups
    /// use it so an absent metadata service fails fast.
    var timeout: Double?

    init(
        method: Method, url: String, headerLines: [String], bodyWindow: ByteRange? = nil,
        bodySink: (any ByteSink)? = nil, uploadBody: UploadBody? = nil, timeout: Double? = nil
    ) {
        self.method = method
        self.url = url
        self.headerLines = headerLines
        self.bodyWindow = bodyWindow
        self.bodySink = bodySink
        self.uploadBody = uploadBody
        self.timeout = timeout
    }

    /// PUT and POST send a body (an empty one when `uploadBody` is nil), through curl's read callback.
    var sendsBody: Bool { method == .put || method == .post }
}

/// A complete HTTP response.
struct HTTPResponse: Sendable {
    var status: Int
    /// Header values by lower-cased name (the last one wins for repeated names).
    var headers: [String: String]
    /// The body, unless it went to the request's sink.
    var body: [UInt8]
    /// Bytes of the body received (after slicing), whether collected in `body` or delivered to the sink.
    var bodyLength: Int
    /// True when the server answered 200 to a ranged GET and `body` holds only the requested window.
    var slicedFromFullObject: Bool

    init(
        status: Int, headers: [String: String], body: [UInt8], bodyLength: Int? = nil,
        slicedFromFullObject: Bool = false
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyLength = bodyLength ?? body.count
        self.slicedFromFullObject = slicedFromFullObject
    }

    subscript(header name: String) -> String? { headers[name] }
}
