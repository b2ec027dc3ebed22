import Domain
import Foundation
import OpenAPIRuntime
import Storage
import Webhooks

/// `/v1/webhook-endpoints` and `/v1/webhook-deliveries`: a partner admin's endpoints and their delivery log.
/// Everything is scoped to the caller's organisation; another organisation's endpoint is 404.
extension SightlineAPI {
    func createWebhookEndpoint(_ input: Operations.CreateWebhookEndpoint.Input) async throws -> Operations.CreateWebhookEndpoint.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        let draft = WebhookEndpointDraft(body)
        try await check(draft, by: caller)
        let (endpoint, secret) = try await webhooks.create(draft, organisationID: caller.organisationID, actor: auditor.actor(caller))
        return .created(.init(body: .json(.init(value1: .init(endpoint, now: clock.now()), value2: .init(secret: secret.text)))))
    }

    func listWebhookEndpoints(_ input: Operations.ListWebhookEndpoints.Input) async throws -> Operations.ListWebhookEndpoints.Output {
        let caller = try Caller.required()
        let page = try PageRequest(limit: input.query.limit.map(Int.init), cursor: input.query.cursor)
        let result = try await webhooks.endpoints(organisationID: caller.organisationID, page: page)
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0, now: clock.now()) }, nextCursor: result.nextCursor?.encoded))))
    }

    func getWebhookEndpoint(_ input: Operations.GetWebhookEndpoint.Input) async throws -> Operations.GetWebhookEndpoint.Output {
        let endpoint = try await ownEndpoint(input.path.id)
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: endpoint.version)), body: .json(.init(endpoint, now: clock.now()))))
    }

    func updateWebhookEndpoint(_ input: Operations.UpdateWebhookEndpoint.Input) async throws -> Operations.UpdateWebhookEndpoint.Output {
        let caller = try Caller.required()
        let patch: OpenAPIObjectContainer
        switch input.body {
        case .applicationMergePatchJson(let body), .json(let body): patch = body.additionalProperties
        }
        let current = try await ownEndpoint(input.path.id)
        try Preconditions.check(ifMatch: input.headers.ifMatch, currentVersion: current.version)
        let draft = try MergePatch.apply(try RequestParsing.patch(patch), to: current.draft, allowed: WebhookEndpointDraft.patchableFields)
        try await check(draft, by: caller)
        guard
            let endpoint = try await webhooks.update(
                id: current.id, organisationID: caller.organisationID, draft: draft, expectedVersion: current.version, actor: auditor.actor(caller)
            )
        else { throw Problem.notFound() }
        return .ok(.init(headers: .init(eTag: Preconditions.etag(version: endpoint.version)), body: .json(.init(endpoint, now: clock.now()))))
    }

    func deleteWebhookEndpoint(_ input: Operations.DeleteWebhookEndpoint.Input) async throws -> Operations.DeleteWebhookEndpoint.Output {
        let caller = try Caller.required()
        guard let id = UUID(uuidString: input.path.id),
            try await webhooks.delete(id: id, organisationID: caller.organisationID, actor: auditor.actor(caller))
        else { throw Problem.notFound() }
        return .noContent(.init())
    }

    func rotateWebhookSecret(_ input: Operations.RotateWebhookSecret.Input) async throws -> Operations.RotateWebhookSecret.Output {
        let caller = try Caller.required()
        guard let id = UUID(uuidString: input.path.id),
            let (endpoint, secret) = try await webhooks.rotateSecret(
                id: id, organisationID: caller.organisationID, overlap: webhookSettings.rotationOverlap, actor: auditor.actor(caller)
            )
        else { throw Problem.notFound() }
        return .ok(.init(body: .json(.init(value1: .init(endpoint, now: clock.now()), value2: .init(secret: secret.text)))))
    }

    func testWebhookEndpoint(_ input: Operations.TestWebhookEndpoint.Input) async throws -> Operations.TestWebhookEndpoint.Output {
        let caller = try Caller.required()
        let delivery = try await found(input.path.id) { id in
            try await webhooks.sendTest(id: id, organisationID: caller.organisationID, actor: auditor.actor(caller))
        }
        return .accepted(.init(body: .json(.init(delivery))))
    }

    func enableWebhookEndpoint(_ input: Operations.EnableWebhookEndpoint.Input) async throws -> Operations.EnableWebhookEndpoint.Output {
        let caller = try Caller.required()
        let endpoint = try await found(input.path.id) { id in
            try await webhooks.enable(id: id, organisationID: caller.organisationID, actor: auditor.actor(caller))
        }
        return .ok(.init(body: .json(.init(endpoint, now: clock.now()))))
    }

    func recoverWebhookEndpoint(_ input: Operations.RecoverWebhookEndpoint.Input) async throws -> Operations.RecoverWebhookEndpoint.Output {
        let caller = try Caller.required()
        guard case .json(let body) = input.body else { throw Problem.notJSON }
        if body.since > clock.now() { throw ValidationError([.init(pointer: "/since", detail: "must not be in the future")]) }
        let queued = try await found(input.path.id) { id in
            try await webhooks.recover(
                endpointID: id, organisationID: caller.organisationID, since: body.since, actor: auditor.actor(caller))
        }
        return .accepted(.init(body: .json(.init(queued: queued))))
    }

    func listWebhookDeliveries(_ input: Operations.ListWebhookDeliveries.Input) async throws -> Operations.ListWebhookDeliveries.Output {
        let caller = try Caller.required()
        let page = try PageRequest(limit: input.query.limit.map(Int.init), cursor: input.query.cursor)
        let result = try await found(input.path.id) { id in
            try await webhooks.deliveries(
                endpointID: id, organisationID: caller.organisationID,
                status: input.query.status.flatMap { WebhookDeliveryStatus(rawValue: $0.rawValue) }, page: page
            )
        }
        return .ok(.init(body: .json(.init(items: result.items.map { .init($0) }, nextCursor: result.nextCursor?.encoded))))
    }

    func getWebhookDelivery(_ input: Operations.GetWebhookDelivery.Input) async throws -> Operations.GetWebhookDelivery.Output {
        let caller = try Caller.required()
        let delivery = try await found(input.path.id) { id in try await webhooks.delivery(id: id, organisationID: caller.organisationID) }
        return .ok(.init(body: .json(.init(delivery))))
    }

    func redeliverWebhook(_ input: Operations.RedeliverWebhook.Input) async throws -> Operations.RedeliverWebhook.Output {
        let caller = try Caller.required()
        let delivery = try await found(input.path.id) { id in
            try await webhooks.redeliver(id: id, organisationID: caller.organisationID, actor: auditor.actor(caller))
        }
        return .accepted(.init(body: .json(.init(delivery))))
    }

    // MARK: Shared

    /// The caller's organisation's endpoint with the id in the path, or 404.
    private func ownEndpoint(_ text: String) async throws -> WebhookEndpoint {
        let caller = try Caller.required()
        guard let id = UUID(uuidString: text), let endpoint = try await webhooks.endpoint(id: id, organisationID: caller.organisationID) else {
            throw Problem.notFound()
        }
        return endpoint
    }

    /// Every rule a new or changed endpoint must keep: the draft's own, TLS material libcurl can use, covert
    /// access only from a key that has it, and a host that resolves only to addresses the policy permits
    /// (checked again at every connection).
    private func check(_ draft: WebhookEndpointDraft, by caller: Principal) async throws {
        let url = try draft.validate()
        let tlsProblems = WebhookTLSMaterial.problems(in: draft, now: clock.now())
        if !tlsProblems.isEmpty { throw ValidationError(tlsProblems) }
        if draft.covertAccess && !caller.covertAccess {
            throw Forbidden("Only a key with covert access may register an endpoint for events about covert cameras.")
        }
        let addresses = await HostResolver.addresses(of: url.host)
        if let problem = url.problem(resolvedTo: addresses, policy: webhookSettings.policy) {
            throw ValidationError([.init(pointer: "/url", detail: problem)])
        }
    }
}

extension WebhookEndpointDraft {
    init(_ body: Components.Schemas.WebhookEndpointCreate) {
        self.init(
            url: body.url, eventTypes: body.eventTypes ?? [], description: body.description, enabled: body.enabled ?? true,
            covertAccess: body.covertAccess ?? false, tlsClientCertificate: body.tlsClientCertificate, tlsClientKey: body.tlsClientKey,
            tlsCACertificate: body.tlsCaCertificate
        )
    }
}

extension Components.Schemas.WebhookEndpoint {
    init(_ endpoint: WebhookEndpoint, now: Date) {
        self.init(
            id: endpoint.id.uuidString.lowercased(), organisationId: endpoint.organisationID.uuidString.lowercased(), url: endpoint.draft.url,
            eventTypes: endpoint.draft.eventTypes, description: endpoint.draft.description, enabled: endpoint.draft.enabled,
            disabledReason: endpoint.disabledReason.flatMap { .init(rawValue: $0.rawValue) }, disabledAt: endpoint.disabledAt,
            covertAccess: endpoint.draft.covertAccess, tlsClientCertificate: endpoint.draft.tlsClientCertificate,
            tlsClientKeySet: endpoint.draft.tlsClientKey != nil, tlsCaCertificate: endpoint.draft.tlsCACertificate,
            previousSecretExpiresAt: endpoint.previousSecretUntil.flatMap { $0 > now ? $0 : nil },
            consecutiveFailures: endpoint.consecutiveFailures, failingSince: endpoint.failingSince, circuitOpenUntil: endpoint.circuitOpenUntil,
            createdAt: endpoint.createdAt, updatedAt: endpoint.updatedAt, version: endpoint.version
        )
    }
}

extension Components.Schemas.WebhookDelivery {
    init(_ delivery: WebhookDelivery) {
        self.init(
            id: delivery.id.uuidString.lowercased(), endpointId: delivery.endpointID.uuidString.lowercased(),
            eventId: delivery.eventID.uuidString.lowercased(), eventType: delivery.eventType, subject: delivery.subject, sequence: delivery.sequence,
            status: .init(rawValue: delivery.status.rawValue) ?? .pending, attempts: delivery.attempts, nextAttemptAt: delivery.nextAttemptAt,
            lastStatusCode: delivery.lastStatusCode, lastErrorClass: delivery.lastErrorClass.flatMap { .init(rawValue: $0.rawValue) },
            lastError: delivery.lastError,
            lastTimingsMs: delivery.lastTimings.map(Components.Schemas.WebhookTimings.init),
            createdAt: delivery.createdAt, deliveredAt: delivery.deliveredAt,
            attemptLog: delivery.attemptLog?.map { attempt in
                .init(
                    attempt: attempt.attempt, startedAt: attempt.startedAt, statusCode: attempt.statusCode,
                    errorClass: attempt.errorClass.flatMap { .init(rawValue: $0.rawValue) }, error: attempt.error,
                    timingsMs: attempt.timings.map(Components.Schemas.WebhookTimings.init)
                )
            }
        )
    }
}

extension Components.Schemas.WebhookTimings {
    init(_ timings: WebhookDelivery.Timings) {
        self.init(dns: timings.dns, connect: timings.connect, tls: timings.tls, firstByte: timings.firstByte, total: timings.total)
    }
}
