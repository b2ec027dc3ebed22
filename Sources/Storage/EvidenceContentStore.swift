import Crypto
import Foundation
import NIOCore
import _NIOFileSystem

/// The stored content of evidence items: files under one directory (`SIGHTLINE_EVIDENCE_DIR`), written and read
/// in chunks so that any size takes constant memory.
///
/// An upload is staged under `incoming/` while it is hashed, and moved to `items/<name>` only once it matches
/// its registration and the database has recorded it; anything else deletes the staged file.
public struct EvidenceContentStore: Sendable {
    /// The directory holding `incoming/` and `items/`.
    public let directory: String

    /// How much an upload buffers before writing, and how much a download reads at a time.
    static let chunk: ByteCount = .mebibytes(1)

    /// A store under `directory`, which `prepare()` creates.
    public init(directory: String) { self.directory = directory }

    /// Creates the directories (owner-only access) if they are missing.
    public func prepare() async throws {
        for sub in ["incoming", "items"] {
            try await FileSystem.shared.createDirectory(
                at: FilePath(directory).appending(sub), withIntermediateDirectories: true, permissions: [.ownerReadWriteExecute]
            )
        }
    }

    /// An upload that matched its registration and waits to be placed.
    public struct Staged: Sendable {
        let path: FilePath
    }

    /// Why staged content was refused.
    public enum Mismatch: Error, Sendable, Hashable {
        /// The body was longer or shorter than registered.
        case size(expected: Int64, received: Int64)
        /// The body's SHA-256 is not the one registered.
        case sha256(expected: String, received: String)
        /// The body broke off (the client went away) after `received` bytes.
        case interrupted(received: Int64)
    }

    /// Writes `body` to a staging file while hashing it, and keeps it only if its length is `expectedSize` and
    /// its SHA-256 (hex) `expectedSHA256`; throws `Mismatch` otherwise. Reading stops as soon as the body runs
    /// past `expectedSize`; a body that breaks off is `Mismatch.interrupted`. Whatever goes wrong, the staging file
    /// is gone.
    public func stage<Body: AsyncSequence & Sendable>(
        _ body: Body, expectedSize: Int64, expectedSHA256: String
    ) async throws -> Staged where Body.Element == ArraySlice<UInt8> {
        let path = FilePath(directory).appending("incoming").appending(UUID().uuidString.lowercased())
        let handle = try await FileSystem.shared.openFile(
            forWritingAt: path, options: .newFile(replaceExisting: false, permissions: [.ownerReadWrite]))
        do {
            var hasher = SHA256()
            var received: Int64 = 0
            var writer = handle.bufferedWriter(capacity: Self.chunk)
            var iterator = body.makeAsyncIterator()
            while true {
                let next: ArraySlice<UInt8>?
                do {
                    next = try await iterator.next()
                } catch {
                    throw Mismatch.interrupted(received: received)
                }
                guard let bytes = next else { break }
                received += Int64(bytes.count)
                guard received <= expectedSize else { throw Mismatch.size(expected: expectedSize, received: received) }
                hasher.update(data: bytes)
                try await writer.write(contentsOf: bytes)
            }
            try await writer.flush()
            guard received == expectedSize else { throw Mismatch.size(expected: expectedSize, received: received) }
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            guard digest == expectedSHA256 else { throw Mismatch.sha256(expected: expectedSHA256, received: digest) }
            try await handle.synchronize()
            try await handle.close()
            return Staged(path: path)
        } catch {
            try? await handle.close()
            _ = try? await FileSystem.shared.removeItem(at: path, recursively: false)
            throw error
        }
    }

    /// Moves staged content to its place as `name`, replacing a file left there by a recording that never
    /// committed.
    public func place(_ staged: Staged, as name: String) async throws {
        let target = try itemPath(name)
        _ = try await FileSystem.shared.removeItem(at: target, recursively: false)
        try await FileSystem.shared.moveItem(at: staged.path, to: target)
    }

    /// Deletes staged content that will not be placed.
    public func discard(_ staged: Staged) async {
        _ = try? await FileSystem.shared.removeItem(at: staged.path, recursively: false)
    }

    /// Deletes the content stored as `name`; nothing happens if there is none.
    public func remove(_ name: String) async throws {
        _ = try await FileSystem.shared.removeItem(at: try itemPath(name), recursively: false)
    }

    /// `range` of the content stored as `name`, read a chunk at a time as the consumer asks for it.
    public func read(_ name: String, range: Range<Int64>) throws -> ContentChunks {
        ContentChunks(path: try itemPath(name), range: range)
    }

    /// The size of the content stored as `name`, or `nil` if there is none.
    public func size(of name: String) async throws -> Int64? {
        try await FileSystem.shared.info(forFileAt: try itemPath(name)).map(\.size)
    }

    private func itemPath(_ name: String) throws -> FilePath {
        // Names are item ids; refuse anything that could leave the directory.
        guard !name.isEmpty, name.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { throw Mismatch.sha256(expected: "a stored name", received: name) }
        return FilePath(directory).appending("items").appending(name)
    }
}

/// A stored file's bytes as an asynchronous sequence of chunks. Each chunk opens the file, reads at its offset
/// and closes it again, so a reader that stops early leaves nothing open and memory stays at one chunk.
public struct ContentChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let path: FilePath
    let range: Range<Int64>

    public func makeAsyncIterator() -> Iterator { Iterator(path: path, offset: range.lowerBound, end: range.upperBound) }

    /// Reads the next chunk on demand.
    public struct Iterator: AsyncIteratorProtocol {
        let path: FilePath
        var offset: Int64
        let end: Int64

        public mutating func next() async throws -> ByteBuffer? {
            guard offset < end else { return nil }
            let length = Swift.min(EvidenceContentStore.chunk.bytes, end - offset)
            let start = offset
            let chunk = try await FileSystem.shared.withFileHandle(forReadingAt: path) { handle in
                try await handle.readChunk(fromAbsoluteOffset: start, length: .bytes(length))
            }
            // The file is shorter than recorded: stop rather than loop.
            guard chunk.readableBytes > 0 else { throw EvidenceContentStore.Mismatch.size(expected: end, received: offset) }
            offset += Int64(chunk.readableBytes)
            return chunk
        }
    }
}
