// CurlCalls: the only file that calls libcurl. Every raw pointer and every `curl_*` call lives here, behind
// classes that own their handle and release it in `deinit`. Callers elsewhere see Swift types, integer handle
// addresses (for lookup) and `CURLcode`/`CURLMcode` values.

import CShims

/// libcurl's process-wide initialisation, done once before the first handle is created.
enum CurlGlobal {
    /// Whether `curl_global_init` succeeded; evaluated once, thread-safely, on first use.
    static let isInitialized: Bool = {
        // curl_global_init runs once, through Swift's thread-safe lazy initialisation of globals.
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    /// curl's text for a result code, e.g. "Couldn't connect to server".
    static func describe(_ code: CURLcode) -> String {
        // SAFETY: curl_easy_strerror returns a pointer to a static, NUL-terminated string.
        unsafe String(cString: curl_easy_strerror(code))
    }
}

/// The callbacks curl delivers response bytes to; set as WRITEDATA/HEADERDATA of an easy handle.
protocol CurlResponseSink: AnyObject {
    /// One raw header line, CRLF included (also status lines and the final empty line).
    func receiveHeaderLine(_ line: UnsafeRawBufferPointer)
    /// A chunk of the body; returning false aborts the transfer with CURLE_WRITE_ERROR.
    func receiveBody(_ chunk: UnsafeRawBufferPointer) -> Bool
}

/// Where curl takes an upload's body from; set as READDATA/SEEKDATA of an easy handle.
protocol CurlUploadSource: AnyObject {
    /// Fills the start of `buffer` with the next bytes of the body; the count (0 at the end), or nil to abort.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int?
    /// Restarts the body at `offset` (curl sends it again on a fresh connection); false if that is impossible.
    func seek(to offset: UInt64) -> Bool
}

/// An owned `curl_slist` of request headers ("Name: value"). Must outlive the transfer that uses it.
/// @safe: the list pointer never leaves this file and is freed exactly once.
@safe final class CurlHeaderList {
    fileprivate private(set) var list: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) {
        for line in lines {
            // SAFETY: curl_slist_append copies the C string; a nil return leaves the old list intact.
            if let appended = unsafe curl_slist_append(list, line) {
                unsafe list = appended
            }
        }
    }

    deinit {
        // SAFETY: `list` came from curl_slist_append and is freed exactly once, here.
        unsafe curl_slist_free_all(list)
    }
}

/// An owned easy handle plus the error buffer curl writes a detailed message into.
/// @safe: the handle and buffer never leave this file and are released exactly once, in deinit.
@safe final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The handle's address, used to find its transfer when the multi handle reports completion.
    let address: Int

    init?() {
        guard CurlGlobal.isInitialized, let handle = unsafe curl_easy_init() else { return nil }
        // SAFETY: a fresh handle and a buffer of CURL_ERROR_SIZE bytes, both released in deinit.
        unsafe self.handle = handle
        unsafe errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        address = Int(bitPattern: handle)
        reset()
    }

    deinit {
        // SAFETY: the handle is no longer attached to a multi handle (CurlMulti.remove runs first), and the
        // error buffer is only referenced by this handle.
        unsafe curl_easy_cleanup(handle)
        unsafe errorBuffer.deallocate()
    }

    /// Clears all options (keeping connections and caches), then reattaches the error buffer.
    func reset() {
        // SAFETY: the handle is alive; the buffer outlives it and is zeroed before curl may write into it.
        unsafe curl_easy_reset(handle)
        unsafe errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        unsafe _ = s3m_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
    }

    /// The detailed message of the last failure (e.g. "Failed to connect to 127.0.0.1 port 1 ..."), or "".
    var errorMessage: String {
        // SAFETY: the buffer is NUL-terminated: zeroed on reset and written by curl within CURL_ERROR_SIZE.
        unsafe String(cString: errorBuffer)
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: Int) -> CURLcode {
        // SAFETY: the handle is alive; `option` must be a long-typed option (checked by curl at runtime).
        unsafe s3m_easy_setopt_long(handle, option, value)
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: String) -> CURLcode {
        // SAFETY: curl copies string options (since 7.17), so the temporary C string may die after the call.
        unsafe s3m_easy_setopt_string(handle, option, value)
    }

    @discardableResult
    func setHeaders(_ headers: CurlHeaderList) -> CURLcode {
        // SAFETY: the list is kept alive by the caller until the transfer completes and the handle is reset.
        unsafe s3m_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers.list))
    }

    /// Routes headers and body to `sink`. The caller keeps `sink` alive while the handle is in a multi handle.
    func setResponseSink(_ sink: CurlResponseSink) {
        // SAFETY: the context is an unretained reference the caller keeps alive for the whole transfer; the
        // callbacks are non-capturing C functions that only cast it back.
        let context = unsafe Unmanaged.passUnretained(sink as AnyObject).toOpaque()
        unsafe _ = s3m_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        unsafe _ = s3m_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        unsafe _ = s3m_easy_setopt_write_callback(handle, curlWriteCallback)
        unsafe _ = s3m_easy_setopt_header_callback(handle, curlHeaderCallback)
    }

    @discardableResult
    func set(_ option: CURLoption, large value: curl_off_t) -> CURLcode {
        // SAFETY: the handle is alive; `option` must be a curl_off_t-typed (*_LARGE) option.
        unsafe s3m_easy_setopt_off_t(handle, option, value)
    }

    /// Takes the request body from `source`. The caller keeps `source` alive while the handle is in a multi handle.
    func setUploadSource(_ source: CurlUploadSource) {
        // SAFETY: as for setResponseSink: an unretained reference kept alive by the caller for the whole transfer,
        // read back only by the non-capturing C callbacks below.
        let context = unsafe Unmanaged.passUnretained(source as AnyObject).toOpaque()
        unsafe _ = s3m_easy_setopt_pointer(handle, CURLOPT_READDATA, context)
        unsafe _ = s3m_easy_setopt_pointer(handle, CURLOPT_SEEKDATA, context)
        unsafe _ = s3m_easy_setopt_read_callback(handle, curlReadCallback)
        unsafe _ = s3m_easy_setopt_seek_callback(handle, curlSeekCallback)
    }

    func info(_ info: CURLINFO) -> Int? {
        var value = 0
        // SAFETY: `value` is a live local of C long width; `info` must be a CURLINFO_LONG item.
        guard unsafe s3m_easy_getinfo_long(handle, info, &value) == CURLE_OK else { return nil }
        return value
    }

    /// `curl_multi_add_handle` and friends need the raw handle; only CurlMulti, in this file, reads it.
    fileprivate var raw: UnsafeMutableRawPointer { unsafe handle }
}

/// An owned multi handle: the connection cache and the event loop curl drives all transfers from.
///
/// @unchecked Sendable: only `wakeup()` may be called from other threads (curl documents curl_multi_wakeup as
/// thread-safe); every other method is called by the single engine thread that owns the loop.
/// @safe: the handle never leaves this file and is released exactly once, in deinit.
@safe final class CurlMulti: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer

    init?() {
        guard CurlGlobal.isInitialized, let handle = unsafe curl_multi_init() else { return nil }
        // SAFETY: a fresh handle, released in deinit.
        unsafe self.handle = handle
    }

    deinit {
        // SAFETY: the engine removed every easy handle before dropping the multi handle.
        unsafe _ = curl_multi_cleanup(handle)
    }

    @discardableResult
    func set(_ option: CURLMoption, _ value: Int) -> CURLMcode {
        // SAFETY: the handle is alive; `option` must be a long-typed multi option.
        unsafe s3m_multi_setopt_long(handle, option, value)
    }

    func add(_ easy: CurlEasy) -> CURLMcode {
        // SAFETY: both handles are alive; the engine keeps `easy` referenced until it is removed again.
        unsafe curl_multi_add_handle(handle, easy.raw)
    }

    @discardableResult
    func remove(_ easy: CurlEasy) -> CURLMcode {
        // SAFETY: both handles are alive.
        unsafe curl_multi_remove_handle(handle, easy.raw)
    }

    /// Runs every transfer as far as it can go without blocking.
    @discardableResult
    func perform() -> CURLMcode {
        var running: Int32 = 0
        // SAFETY: `running` is a live local.
        return unsafe curl_multi_perform(handle, &running)
    }

    /// Sleeps until a socket is ready, `wakeup()` is called, or the timeout passes.
    @discardableResult
    func poll(timeoutMilliseconds: Int32) -> CURLMcode {
        // SAFETY: no extra file descriptors are passed (nil, 0).
        unsafe curl_multi_poll(handle, nil, 0, timeoutMilliseconds, nil)
    }

    /// Interrupts `poll` from any thread.
    func wakeup() {
        // SAFETY: curl_multi_wakeup is documented thread-safe; the handle lives as long as this object.
        unsafe _ = curl_multi_wakeup(handle)
    }

    /// The next finished transfer: the easy handle's address and its result.
    func nextCompletion() -> (address: Int, result: CURLcode)? {
        var remaining: Int32 = 0
        // SAFETY: the message is read immediately; curl keeps it valid until the next info_read/remove call.
        while let message = unsafe curl_multi_info_read(handle, &remaining) {
            guard unsafe message.pointee.msg == CURLMSG_DONE else { continue }
            return unsafe (Int(bitPattern: message.pointee.easy_handle), message.pointee.data.result)
        }
        return nil
    }
}

// The C callbacks. `userdata` is the unretained CurlResponseSink set by `CurlEasy.setResponseSink`.

private func sink(_ userdata: UnsafeMutableRawPointer?) -> CurlResponseSink? {
    guard let userdata = unsafe userdata else { return nil }
    // SAFETY: WRITEDATA/HEADERDATA always hold an object passed by setResponseSink and kept alive by the engine.
    return unsafe Unmanaged<AnyObject>.fromOpaque(userdata).takeUnretainedValue() as? CurlResponseSink
}

private let curlWriteCallback: s3m_data_callback = { buffer, size, count, userdata in
    let length = size * count
    // SAFETY: curl passes `length` readable bytes at `buffer` for the duration of this call.
    guard let sink = unsafe sink(userdata), let buffer = unsafe buffer else { return 0 }
    let chunk = unsafe UnsafeRawBufferPointer(start: buffer, count: length)
    return unsafe sink.receiveBody(chunk) ? length : 0
}

private let curlHeaderCallback: s3m_data_callback = { buffer, size, count, userdata in
    let length = size * count
    // SAFETY: as for the write callback; the sink copies what it keeps of the line before returning.
    guard let sink = unsafe sink(userdata), let buffer = unsafe buffer else { return 0 }
    unsafe sink.receiveHeaderLine(UnsafeRawBufferPointer(start: buffer, count: length))
    return length
}

// `userdata` is the unretained CurlUploadSource set by `CurlEasy.setUploadSource`.

private func uploadSource(_ userdata: UnsafeMutableRawPointer?) -> CurlUploadSource? {
    guard let userdata = unsafe userdata else { return nil }
    // SAFETY: READDATA/SEEKDATA always hold an object passed by setUploadSource and kept alive by the engine.
    return unsafe Unmanaged<AnyObject>.fromOpaque(userdata).takeUnretainedValue() as? CurlUploadSource
}

private let curlReadCallback: s3m_data_callback = { buffer, size, count, userdata in
    let abort = Int(CURL_READFUNC_ABORT)
    // SAFETY: curl passes a writable buffer of `size * count` bytes, valid for the duration of this call.
    guard let source = unsafe uploadSource(userdata), let buffer = unsafe buffer else { return abort }
    let space = unsafe UnsafeMutableRawBufferPointer(start: buffer, count: size * count)
    return unsafe source.read(into: space) ?? abort
}

private let curlSeekCallback: s3m_seek_callback = { userdata, offset, origin in
    // SAFETY: as for the read callback; curl only ever seeks from the start (SEEK_SET).
    guard let source = unsafe uploadSource(userdata), origin == SEEK_SET, offset >= 0 else {
        return Int32(CURL_SEEKFUNC_CANTSEEK)
    }
    return source.seek(to: UInt64(offset)) ? Int32(CURL_SEEKFUNC_OK) : Int32(CURL_SEEKFUNC_FAIL)
}
