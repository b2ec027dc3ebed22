import Domain
import Foundation
import Testing

@Suite("Domain: webhook rules")
struct WebhookRulesTests {
    @Test(arguments: [
        // Public.
        ("93.184.215.14", true), ("8.8.8.8", true), ("2606:4700:4700::1111", true), ("172.32.0.1", true), ("100.128.0.1", true),
        // Not: private, loopback, link-local (cloud metadata), shared, this network, multicast, reserved, documentation.
        ("10.0.0.1", false), ("172.16.5.4", false), ("172.31.255.255", false), ("192.168.1.1", false), ("127.0.0.1", false),
        ("127.255.255.254", false), ("169.254.169.254", false), ("100.64.0.1", false), ("0.0.0.0", false), ("224.0.0.1", false),
        ("255.255.255.255", false), ("192.0.2.1", false), ("198.18.0.1", false),
        ("::1", false), ("::", false), ("fe80::1", false), ("fc00::1", false), ("fd12:3456::1", false), ("ff02::1", false),
        ("::ffff:127.0.0.1", false), ("::ffff:8.8.8.8", false), ("64:ff9b::a00:1", false), ("2001:db8::1", false),
    ])
    func onlyPublicAddressesArePermittedByDefault(address: String, permitted: Bool) throws {
        let parsed = try #require(NetworkAddress(address), "\(address)")
        #expect(WebhookAddressPolicy().permits(parsed) == permitted, "\(address)")
    }

    @Test func anAllowedBlockIsPermittedAndMayBeReachedOverPlainHTTP() throws {
        let policy = WebhookAddressPolicy(allowed: [try #require(AddressBlock("127.0.0.0/8")), try #require(AddressBlock("fd00::/8"))])
        #expect(policy.permits(NetworkAddress("127.0.0.1")!))
        #expect(policy.permits(NetworkAddress("fd00::5")!))
        #expect(!policy.permits(NetworkAddress("10.0.0.1")!))
        let http = try WebhookURL.parse("http://127.0.0.1:8080/hook", at: "/url").get()
        #expect(http.problem(resolvedTo: [NetworkAddress("127.0.0.1")!], policy: policy) == nil)
        #expect(http.problem(resolvedTo: [NetworkAddress("93.184.215.14")!], policy: policy) == "must use https")
        #expect(http.problem(resolvedTo: [], policy: policy) == "has a host that does not resolve")
        // One refused address among several refuses the URL: the resolver may hand out any of them.
        let https = try WebhookURL.parse("https://example.org/hook", at: "/url").get()
        #expect(https.problem(resolvedTo: [NetworkAddress("93.184.215.14")!, NetworkAddress("10.0.0.1")!], policy: WebhookAddressPolicy()) != nil)
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.255.0.1", true), ("10.0.0.0/8", "11.0.0.1", false), ("192.168.0.0/16", "192.168.9.9", true),
        ("172.16.0.0/12", "172.31.0.1", true), ("172.16.0.0/12", "172.32.0.1", false), ("0.0.0.0/0", "1.2.3.4", true),
        ("fe80::/10", "febf::1", true), ("fe80::/10", "fec0::1", false), ("127.0.0.1", "127.0.0.1", true), ("127.0.0.1", "127.0.0.2", false),
        ("::/0", "127.0.0.1", false),
    ])
    func blocksContainWhatTheirPrefixCovers(block: String, address: String, contained: Bool) throws {
        #expect(try #require(AddressBlock(block)).contains(try #require(NetworkAddress(address))) == contained)
    }

    @Test(arguments: ["", "10.0.0.0/33", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "::1/129", "1::2::3", "hello", "10.0.0.0/x"])
    func malformedBlocksAreRefused(text: String) {
        #expect(AddressBlock(text) == nil)
    }

    @Test(arguments: [
        ("https://hooks.example.org/sightline", nil),
        ("https://[2606:4700::1]:8443/x", nil),
        ("http://hooks.example.org/x", nil),  // allowed in form; refused unless it resolves into an allowed block
        ("ftp://example.org/x", "must use https"),
        ("https:///x", "has no host"),
        ("https://a:b@example.org/x", "must not carry a user name or password"),
        ("https://example.org/x#frag", "must not have a fragment"),
        ("https://example.org:99999/x", "has a port outside 1 to 65535"),
        ("https://example.org:0/x", "has a port outside 1 to 65535"),
        ("https://example.org:65535/x", nil),
        ("example.org/x", "is not an absolute URL"),
    ])
    func urlsAreAbsoluteHTTPSWithoutCredentials(url: String, problem: String?) {
        switch WebhookURL.parse(url, at: "/url") {
        case .success: #expect(problem == nil, "\(url)")
        case .failure(let error): #expect(error.problems.first?.detail == problem, "\(url)")
        }
    }

    @Test func retriesFollowTheScheduleWithinTheirJitterThenStop() {
        let schedule = WebhookRetrySchedule.standard
        let expected: [Double] = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
        for (index, seconds) in expected.enumerated() {
            #expect(schedule.delay(afterAttempt: index + 1, random: 0) == .seconds(seconds))
            #expect(schedule.delay(afterAttempt: index + 1, random: 1) == .milliseconds(Int((seconds * 1100).rounded())))
            #expect(schedule.delay(afterAttempt: index + 1, random: -1) == .milliseconds(Int((seconds * 900).rounded())))
        }
        #expect(schedule.delay(afterAttempt: 10) == nil)
        #expect(schedule.delay(afterAttempt: 0) == nil)
        // Retry-After replaces the schedule's wait, within a day.
        #expect(schedule.delay(afterAttempt: 1, retryAfter: .seconds(120)) == .seconds(120))
        #expect(schedule.delay(afterAttempt: 1, retryAfter: .seconds(999_999)) == .seconds(86400))
    }

    @Test(arguments: [
        (200, nil, WebhookAttemptVerdict.delivered), (204, nil, .delivered), (299, nil, .delivered),
        (410, nil, .gone),
        (429, "120", .retry(retryAfter: .seconds(120))), (503, "7", .retry(retryAfter: .seconds(7))),
        (503, "Sat, 21 Nov 2026 12:01:40 GMT", .retry(retryAfter: .seconds(100))), (429, "soon", .retry(retryAfter: nil)),
        (500, "120", .retry(retryAfter: nil)), (301, nil, .retry(retryAfter: nil)), (404, nil, .retry(retryAfter: nil)),
    ])
    func verdictsFollowTheStatus(status: Int, retryAfter: String?, verdict: WebhookAttemptVerdict) {
        let now = Date(timeIntervalSince1970: 1_795_262_400)  // Sat, 21 Nov 2026 12:00:00 GMT
        #expect(WebhookAttemptVerdict.of(status: status, retryAfter: retryAfter, now: now) == verdict)
    }

    @Test func theCircuitOpensAfterFiveFailuresForLongerEachTime() {
        let breaker = WebhookCircuitBreaker.standard
        #expect(breaker.openFor(consecutiveFailures: 4) == nil)
        #expect(breaker.openFor(consecutiveFailures: 5) == .seconds(30))
        #expect(breaker.openFor(consecutiveFailures: 6) == .seconds(60))
        #expect(breaker.openFor(consecutiveFailures: 9) == .seconds(480))
        #expect(breaker.openFor(consecutiveFailures: 10) == .seconds(600))
        #expect(breaker.openFor(consecutiveFailures: 1000) == .seconds(600))
    }

    @Test func draftsNameEveryFaultyField() {
        let draft = WebhookEndpointDraft(
            url: "ftp://x", eventTypes: ["camera.created", "camera.created", "nope"], description: String(repeating: "d", count: 501),
            tlsClientCertificate: "not pem"
        )
        do {
            _ = try draft.validate()
            Issue.record("expected a ValidationError")
        } catch let error as ValidationError {
            #expect(
                error.problems.map(\.pointer) == [
                    "/url", "/event_types/1", "/event_types/2", "/description", "/tls_client_certificate", "/tls_client_key",
                ])
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
