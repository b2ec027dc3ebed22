import CCurl
import Foundation

/// The one-time `curl_global_init`, run by the first `CurlClient`; Swift runs a global's initialiser once.
let curlGlobalInitialisation: CURLcode = sl_global_init()

/// One easy handle and everything it points at, alive for the whole transfer.
///
/// Built and configured on the caller's thread, then handed to the client's thread, which alone touches it
/// until the transfer completes; hence `@unchecked Sendable`.
final class CurlTransfer: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    private let maxBodyBytes: Int
    private let addressFilter: (@Sendable (CurlAddress) -> Bool)?

    private(set) var body: [UInt8] = []
    private(set) var bodyTruncated = false
    private(set) var headers: [CurlHeader] = []
    private(set) var refusedAddresses: [CurlAddress] = []
    var continuation: CheckedContinuation<CurlResponse, any Error>?

    init(_ request: CurlRequest) throws {
        _ = curlGlobalInitialisation
        guard let handle = curl_easy_init() else {
            throw CurlError(code: .other, curlCode: nil, message: "curl_easy_init failed")
        }
        self.handle = handle
        self.maxBodyBytes = max(0, request.maxResponseBodyBytes)
        self.addressFilter = request.addressFilter
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try configure(request)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    private func configure(_ request: CurlRequest) throws {
        let context = Unmanaged.passUnretained(self).toOpaque()
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_PRIVATE, context)
        let protocols = request.allowedProtocols.map(\.rawValue).sorted().joined(separator: ",")
        try set(CURLOPT_PROTOCOLS_STR, protocols)
        try set(CURLOPT_REDIR_PROTOCOLS_STR, protocols)
        try set(CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        try set(CURLOPT_MAXREDIRS, 5)
        try set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds)
        try set(CURLOPT_TIMEOUT_MS, request.timeout.milliseconds)
        if let path = request.tls.caBundlePath { try set(CURLOPT_CAINFO, path) }
        if let path = request.tls.clientCertificatePath { try set(CURLOPT_SSLCERT, path) }
        if let path = request.tls.clientKeyPath { try set(CURLOPT_SSLKEY, path) }
        for (option, pem) in [
            (CURLOPT_CAINFO_BLOB, request.tls.caBundlePEM), (CURLOPT_SSLCERT_BLOB, request.tls.clientCertificatePEM),
            (CURLOPT_SSLKEY_BLOB, request.tls.clientKeyPEM),
        ] {
            guard let pem else { continue }
            if option == CURLOPT_SSLCERT_BLOB { try set(CURLOPT_SSLCERTTYPE, "PEM") }
            if option == CURLOPT_SSLKEY_BLOB { try set(CURLOPT_SSLKEYTYPE, "PEM") }
            let bytes = Array(pem.utf8)
            try bytes.withUnsafeBytes { try check(sl_easy_setopt_blob(handle, option, $0.baseAddress, $0.count)) }
        }

        switch request.method.uppercased() {
        case "GET": try set(CURLOPT_HTTPGET, 1)
        case "HEAD": try set(CURLOPT_NOBODY, 1)
        case "POST": try set(CURLOPT_POST, 1)
        default: try set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let body = request.body {
            try check(sl_easy_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            // COPYPOSTFIELDS copies the bytes, so the body need not outlive this call.
            try body.withUnsafeBufferPointer { buffer in
                let pointer = UnsafeMutableRawPointer(mutating: buffer.baseAddress) ?? UnsafeMutableRawPointer(errorBuffer)
                try check(sl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, pointer))
            }
        }

        // No "Expect: 100-continue" round trip; the list is freed in deinit, after the transfer.
        for header in request.headers + [CurlHeader("Expect", "")] {
            headerList = curl_slist_append(headerList, header.value.isEmpty ? "\(header.name):" : "\(header.name): \(header.value)")
        }
        try check(sl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))

        try check(sl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteCallback))
        try set(CURLOPT_WRITEDATA, context)
        try check(sl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback))
        try set(CURLOPT_HEADERDATA, context)
        try check(sl_easy_setopt_opensocket(handle, curlOpenSocketCallback))
        try set(CURLOPT_OPENSOCKETDATA, context)
    }

    // MARK: Callbacks, on the client's thread.

    func receiveBody(_ data: UnsafeRawBufferPointer) -> Int {
        let room = maxBodyBytes - body.count
        if data.count > room {
            body.append(contentsOf: data.prefix(room))
            bodyTruncated = true
            return 0  // Tells libcurl to stop: the rest would be thrown away anyway.
        }
        body.append(contentsOf: data)
        return data.count
    }

    func receiveHeaderLine(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers = []  // A new response (after 100 Continue or a redirect) replaces the last one's headers.
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        headers.append(CurlHeader(name, value))
    }

    func mayConnect(to address: CurlAddress) -> Bool {
        guard let addressFilter, !addressFilter(address) else { return true }
        refusedAddresses.append(address)
        return false
    }

    // MARK: Results

    func response() -> CurlResponse {
        CurlResponse(
            status: Int(info(CURLINFO_RESPONSE_CODE)),
            headers: headers,
            body: body,
            bodyTruncated: bodyTruncated,
            connectedIP: stringInfo(CURLINFO_PRIMARY_IP),
            timings: timings()
        )
    }

    func error(for code: CURLcode) -> CurlError {
        let message = String(cString: errorBuffer)
        let text = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
        let kind: CurlError.Code
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST: kind = .couldNotResolve
        case CURLE_COULDNT_CONNECT: kind = refusedAddresses.isEmpty ? .couldNotConnect : .addressRefused
        case CURLE_OPERATION_TIMEDOUT: kind = timeInfo(CURLINFO_CONNECT_TIME_T) == .zero ? .connectTimeout : .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CLIENTCERT:
            kind = .tls
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT: kind = .invalidURL
        // With TLS 1.3 the server judges the client certificate after the handshake, so its refusal (an alert
        // such as "certificate required" or "unknown ca") arrives as a failed read or write; OpenSSL names it.
        case CURLE_RECV_ERROR where text.contains("SSL routines"), CURLE_SEND_ERROR where text.contains("SSL routines"): kind = .tls
        default: kind = refusedAddresses.isEmpty ? .other : .addressRefused
        }
        let detail =
            refusedAddresses.isEmpty ? text : "\(text) (refused by the address filter: \(refusedAddresses.map(\.text).joined(separator: ", ")))"
        return CurlError(code: kind, curlCode: Int32(code.rawValue), message: detail)
    }

    private func timings() -> CurlTimings {
        CurlTimings(
            dns: timeInfo(CURLINFO_NAMELOOKUP_TIME_T),
            connect: timeInfo(CURLINFO_CONNECT_TIME_T),
            tls: timeInfo(CURLINFO_APPCONNECT_TIME_T),
            firstByte: timeInfo(CURLINFO_STARTTRANSFER_TIME_T),
            total: timeInfo(CURLINFO_TOTAL_TIME_T)
        )
    }

    private func info(_ item: CURLINFO) -> Int {
        var value = 0
        _ = sl_easy_getinfo_long(handle, item, &value)
        return value
    }

    private func timeInfo(_ item: CURLINFO) -> Duration {
        var microseconds: curl_off_t = 0
        _ = sl_easy_getinfo_off(handle, item, &microseconds)
        return .microseconds(microseconds)
    }

    private func stringInfo(_ item: CURLINFO) -> String? {
        var pointer: UnsafeMutablePointer<CChar>?
        guard sl_easy_getinfo_string(handle, item, &pointer) == CURLE_OK, let pointer else { return nil }
        let text = String(cString: pointer)
        return text.isEmpty ? nil : text
    }

    // MARK: Option setting

    private func set(_ option: CURLoption, _ value: Int) throws {
        try check(sl_easy_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws {
        try check(sl_easy_setopt_string(handle, option, value))  // libcurl copies strings.
    }

    private func set(_ option: CURLoption, _ value: UnsafeMutableRawPointer) throws {
        try check(sl_easy_setopt_pointer(handle, option, value))
    }

    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else { throw error(for: code) }
    }
}

// The C callbacks find their transfer through the context pointer libcurl passes back.

private let curlWriteCallback: sl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
}

private let curlHeaderCallback: sl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    transfer.receiveHeaderLine(String(decoding: bytes, as: UTF8.self))
    return size * count
}

private let curlOpenSocketCallback: sl_opensocket_callback = { context, _, address in
    guard let context, let address else { return sl_socket_bad() }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    guard let candidate = CurlAddress(address), transfer.mayConnect(to: candidate) else { return sl_socket_bad() }
    return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
}

extension CurlAddress {
    /// The address libcurl is about to connect to, or `nil` for a family other than IPv4 and IPv6.
    init?(_ pointer: UnsafeMutablePointer<curl_sockaddr>) {
        // libcurl's buffer holds the whole socket address, which for IPv6 is longer than the `sockaddr` member.
        let socketAddress = UnsafeRawPointer(pointer).advanced(by: MemoryLayout<curl_sockaddr>.offset(of: \.addr)!)
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch pointer.pointee.family {
        case AF_INET:
            let ipv4 = socketAddress.loadUnaligned(as: sockaddr_in.self)
            var address = ipv4.sin_addr
            inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
            family = .ipv4
            bytes = withUnsafeBytes(of: &address) { Array($0) }
            port = Int(UInt16(bigEndian: ipv4.sin_port))
        case AF_INET6:
            let ipv6 = socketAddress.loadUnaligned(as: sockaddr_in6.self)
            var address = ipv6.sin6_addr
            inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
            family = .ipv6
            bytes = withUnsafeBytes(of: &address) { Array($0) }
            port = Int(UInt16(bigEndian: ipv6.sin6_port))
        default:
            return nil
        }
        self.text = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

extension Duration {
    /// The duration in whole milliseconds, at least 1 so that libcurl never reads 0 as "no limit".
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
