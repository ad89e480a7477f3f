// The engine thread's loop: applies commands, drives curl, completes transfers. See TransferEngine.swift.

import CShims
import ObjectStore

/// Owns the easy handles and in-flight transfers. Created on, and only touched by, the engine thread.
final class TransferLoop {
    static let cancelledError = ClientError(kind: .other, detail: "request cancelled")

    private struct Active {
        let id: UInt64
        let easy: CurlEasy
        let headers: CurlHeaderList
        let response: ResponseAccumulator
        /// The body a PUT or POST sends, read afresh by every transfer.
        let upload: UploadBodyReader?
        let continuation: TransferContinuation
    }

    private let core: EngineCore
    private let options: TransferOptions
    private var idle: [CurlEasy] = []
    private var active: [Int: Active] = [:]
    private var addressByID: [UInt64: Int] = [:]

    init(core: EngineCore, options: TransferOptions) {
        self.core = core
        self.options = options
    }

    func run() {
        while true {
            for command in core.takeCommands() {
                switch command {
                case .start(let id, let request, let continuation): start(id, request, continuation)
                case .cancel(let id): cancel(id)
                case .shutdown:
                    for id in Array(addressByID.keys) { cancel(id) }
                    return
                }
            }
            core.multi.perform()
            while let (address, result) = core.multi.nextCompletion() {
                complete(address, result)
            }
            core.multi.poll(timeoutMilliseconds: 1000)
        }
    }

    private func start(_ id: UInt64, _ request: HTTPRequest, _ continuation: TransferContinuation) {
        let upload: UploadBodyReader?
        do throws(ClientError) {
            upload = request.sendsBody ? try UploadBodyReader(request.uploadBody ?? .bytes([])) : nil
        } catch {
            continuation.resume(returning: .failure(error))
            return
        }
        guard let easy = idle.popLast() ?? CurlEasy() else {
            continuation.resume(returning: .failure(ClientError(kind: .other, detail: "curl_easy_init failed")))
            return
        }
        let headers = CurlHeaderList(request.headerLines + Self.transportHeaders(for: request))
        let response = ResponseAccumulator(window: request.bodyWindow, sink: request.bodySink)
        configure(easy, for: request, headers: headers, response: response, upload: upload)
        guard core.multi.add(easy) == CURLM_OK else {
            continuation.resume(returning: .failure(ClientError(kind: .other, detail: "curl_multi_add_handle failed")))
            return
        }
        active[easy.address] = Active(
            id: id, easy: easy, headers: headers, response: response, upload: upload, continuation: continuation)
        addressByID[id] = easy.address
    }

    private func configure(
        _ easy: CurlEasy, for request: HTTPRequest, headers: CurlHeaderList, response: ResponseAccumulator,
        upload: UploadBodyReader?
    ) {
        easy.set(CURLOPT_URL, request.url)
        // Keys may contain "." and ".." segments; curl must send (and we sign) the path exactly as built.
        easy.set(CURLOPT_PATH_AS_IS, 1)
        switch request.method {
        case .get: easy.set(CURLOPT_HTTPGET, 1)
        case .head: easy.set(CURLOPT_NOBODY, 1)
        case .put:
            easy.set(CURLOPT_UPLOAD, 1)
            easy.set(CURLOPT_INFILESIZE_LARGE, large: curl_off_t(upload?.length ?? 0))
        case .post:
            easy.set(CURLOPT_POST, 1)
            easy.set(CURLOPT_POSTFIELDSIZE_LARGE, large: curl_off_t(upload?.length ?? 0))
        case .delete: easy.set(CURLOPT_CUSTOMREQUEST, "DELETE")
        }
        if let upload {
            easy.setUploadSource(upload)
            easy.set(CURLOPT_UPLOAD_BUFFERSIZE, 512 * 1024)
        }
        easy.setHeaders(headers)
        easy.setResponseSink(response)
        easy.set(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
        easy.set(CURLOPT_NOSIGNAL, 1)
        easy.set(CURLOPT_TCP_NODELAY, 1)
        // Fewer, larger reads from the socket and fewer write callbacks per block (curl defaults to 16 KiB). curl
        // allocates this buffer for every transfer and frees it at the end: it must stay under malloc's mmap
        // threshold (MountRunner), or each transfer maps fresh pages and faults them in (512 KiB cost a small-file
        // read a tenth of the daemon's CPU in page faults and munmap).
        easy.set(CURLOPT_BUFFERSIZE, 128 * 1024)
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        easy.set(CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedLimit)
        easy.set(CURLOPT_LOW_SPEED_TIME, options.lowSpeedTime)
        if let timeout = request.timeout { easy.set(CURLOPT_TIMEOUT_MS, Int(timeout * 1000)) }
        easy.set(CURLOPT_SSL_VERIFYPEER, options.tlsVerify ? 1 : 0)
        easy.set(CURLOPT_SSL_VERIFYHOST, options.tlsVerify ? 2 : 0)
        if let caBundle = options.caBundle, request.url.hasPrefix("https://") {
            easy.set(CURLOPT_CAINFO, caBundle)
        }
    }

    private func complete(_ address: Int, _ result: CURLcode) {
        guard let transfer = active.removeValue(forKey: address) else { return }
        addressByID[transfer.id] = nil
        core.multi.remove(transfer.easy)
        core.connectionsOpened.add(transfer.easy.info(CURLINFO_NUM_CONNECTS) ?? 0, ordering: .relaxed)
        let response = transfer.response
        let outcome: Result<HTTPResponse, ClientError>
        if let failure = transfer.upload?.failure {
            outcome = .failure(failure)
        } else if let cap = response.overCap {
            outcome = .failure(ClientError(kind: .malformedResponse, detail: "answer body over \(cap >> 20) MiB"))
        } else if result == CURLE_OK || (result == CURLE_WRITE_ERROR && response.stoppedAfterWindow) {
            outcome = .success(response.response)
        } else {
            let detail = transfer.easy.errorMessage
            outcome = .failure(
                CurlErrorMapping.clientError(
                    for: result, detail: detail.isEmpty ? CurlGlobal.describe(result) : detail,
                    bodyStarted: response.receivedBytes > 0))
        }
        recycle(transfer.easy)
        transfer.continuation.resume(returning: outcome)
    }

    /// Headers curl needs told: "Expect:" stops it waiting for `100 Continue` before sending a body, and a POST
    /// without a Content-Type would otherwise go out as application/x-www-form-urlencoded.
    private static func transportHeaders(for request: HTTPRequest) -> [String] {
        guard request.sendsBody else { return [] }
        let hasContentType = request.headerLines.contains { $0.lowercased().hasPrefix("content-type:") }
        return ["Expect:"] + (request.method == .post && !hasContentType ? ["Content-Type:"] : [])
    }

    private func cancel(_ id: UInt64) {
        guard let address = addressByID.removeValue(forKey: id), let transfer = active.removeValue(forKey: address)
        else { return }
        core.multi.remove(transfer.easy)
        recycle(transfer.easy)
        transfer.continuation.resume(returning: .failure(Self.cancelledError))
    }

    private func recycle(_ easy: CurlEasy) {
        easy.reset()
        if idle.count < options.maxConnections { idle.append(easy) }
    }
}
