import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A private certificate authority made for one test, as a partner running its own PKI would have: a CA, a
/// server certificate for 127.0.0.1 and a client certificate, all P-256, valid for an hour.
struct TestPKI: Sendable {
    /// A certificate and its private key, as PEM.
    struct Identity: Sendable {
        let certificatePEM: String
        let keyPEM: String

        init(certificate: Certificate, key: P256.Signing.PrivateKey) throws {
            certificatePEM = try certificate.serializeAsPEM().pemString
            keyPEM = key.pemRepresentation
        }
    }

    let authority: Identity
    let server: Identity
    let client: Identity
    /// A client certificate of this CA that expired an hour ago.
    let expiredClient: Identity

    /// A new CA (named `name`) and the two certificates it issues.
    init(name: String = "Sightline test CA") throws {
        let key = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName(name) }
        authority = try Identity(
            certificate: try Self.issue(
                subject: caName, key: key, issuer: caName, issuerKey: key,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true))
                }
            ),
            key: key
        )
        let serverKey = P256.Signing.PrivateKey()
        server = try Identity(
            certificate: try Self.issue(
                subject: try DistinguishedName { CommonName("127.0.0.1") }, key: serverKey, issuer: caName, issuerKey: key,
                extensions: try Certificate.Extensions {
                    SubjectAlternativeNames([.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
                    try ExtendedKeyUsage([.serverAuth])
                }
            ),
            key: serverKey
        )
        let clientKey = P256.Signing.PrivateKey()
        client = try Identity(
            certificate: try Self.issue(
                subject: try DistinguishedName { CommonName("sightline-dispatcher") }, key: clientKey, issuer: caName, issuerKey: key,
                extensions: try Certificate.Extensions { try ExtendedKeyUsage([.clientAuth]) }
            ),
            key: clientKey
        )
        let expiredKey = P256.Signing.PrivateKey()
        expiredClient = try Identity(
            certificate: try Self.issue(
                subject: try DistinguishedName { CommonName("sightline-dispatcher") }, key: expiredKey, issuer: caName, issuerKey: key,
                extensions: try Certificate.Extensions { try ExtendedKeyUsage([.clientAuth]) }, valid: (Date() - 7200)...(Date() - 3600)
            ),
            key: expiredKey
        )
    }

    private static func issue(
        subject: DistinguishedName, key: P256.Signing.PrivateKey, issuer: DistinguishedName, issuerKey: P256.Signing.PrivateKey,
        extensions: Certificate.Extensions, valid: ClosedRange<Date> = (Date() - 3600)...(Date() + 3600)
    ) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: valid.lowerBound, notValidAfter: valid.upperBound, issuer: issuer, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions, issuerPrivateKey: Certificate.PrivateKey(issuerKey)
        )
    }

    /// A server configuration presenting the server certificate and requiring a client certificate issued by
    /// this CA.
    func serverConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(server.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(server.keyPEM.utf8), format: .pem))
        )
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(authority.certificatePEM.utf8), format: .pem)])
        return configuration
    }
}
