import Domain
import Foundation
import SwiftASN1
import X509

/// The checks on an endpoint's TLS material that a registration can make before any delivery does: every PEM
/// certificate parses and is within its validity, the private key parses, is not encrypted, and belongs to the
/// client certificate. What a partner gets wrong here is a 400 naming the field, not a `tls` failure on the
/// first event.
public enum WebhookTLSMaterial {
    /// The problems with `draft`'s certificates and key at `now`, each at its field; empty if there are none.
    public static func problems(in draft: WebhookEndpointDraft, now: Date) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        var clientCertificate: Certificate?
        for (pointer, pem) in [("/tls_client_certificate", draft.tlsClientCertificate), ("/tls_ca_certificate", draft.tlsCACertificate)] {
            guard let pem else { continue }
            switch certificates(in: pem, at: now) {
            case .success(let chain): if pointer == "/tls_client_certificate" { clientCertificate = chain.first }
            case .failure(let problem): problems.append(FieldProblem(pointer: pointer, detail: problem.detail))
            }
        }
        if let pem = draft.tlsClientKey {
            if pem.contains("ENCRYPTED") {
                problems.append(FieldProblem(pointer: "/tls_client_key", detail: "is encrypted; give the key without a passphrase"))
            } else if let key = try? Certificate.PrivateKey(pemEncoded: pem) {
                if let clientCertificate, key.publicKey != clientCertificate.publicKey {
                    problems.append(FieldProblem(pointer: "/tls_client_key", detail: "is not the private key of tls_client_certificate"))
                }
            } else {
                problems.append(FieldProblem(pointer: "/tls_client_key", detail: "is not a PEM private key (PKCS #8, SEC 1 or PKCS #1)"))
            }
        }
        return problems
    }

    private struct Problem: Error {
        var detail: String
    }

    /// Every certificate in `pem`, in order, or what is wrong with the first that is not usable at `now`.
    private static func certificates(in pem: String, at now: Date) -> Result<[Certificate], Problem> {
        guard let documents = try? PEMDocument.parseMultiple(pemString: pem), !documents.isEmpty else {
            return .failure(Problem(detail: "is not PEM"))
        }
        var chain: [Certificate] = []
        for (index, document) in documents.enumerated() {
            let which = documents.count == 1 ? "" : " (certificate " + String(index + 1) + ")"
            guard document.discriminator == "CERTIFICATE", let certificate = try? Certificate(pemDocument: document) else {
                return .failure(Problem(detail: "is not a PEM certificate" + which))
            }
            if certificate.notValidAfter < now {
                return .failure(Problem(detail: "expired on " + certificate.notValidAfter.formatted(.iso8601) + which))
            }
            if certificate.notValidBefore > now {
                return .failure(Problem(detail: "is not valid until " + certificate.notValidBefore.formatted(.iso8601) + which))
            }
            chain.append(certificate)
        }
        return .success(chain)
    }
}
