/// Answers the readiness question: can this instance use the database now?
public struct DatabaseHealth: Sendable {
    private let database: Database
    private let migrator: Migrator

    /// A checker over `database` that compares the schema with `migrator`'s migrations.
    public init(_ database: Database, migrator: Migrator) {
        self.database = database
        self.migrator = migrator
    }

    /// The database's state: `nil` for the database when it answered, else why not; the schema's status.
    public func check() async -> (database: String?, schema: SchemaStatus?) {
        do {
            return (nil, try await migrator.status(database))
        } catch let error as StorageError {
            return (error.kind == .unavailable ? "unreachable" : "\(error)", nil)
        } catch {
            return ("\(error)", nil)
        }
    }

    /// What `/readyz` answers, however it is served: ready when the database answers and its schema is current,
    /// with `ok` or the reason for each check.
    public func readiness() async -> Readiness {
        let (database, schema) = await check()
        return Readiness(
            isReady: database == nil && schema == .current, database: database ?? "ok",
            schema: schema.map { $0 == .current ? "ok" : $0.explanation } ?? "unknown"
        )
    }
}

/// The answer to the readiness question: whether the instance is ready, and each check's `ok` or reason.
public struct Readiness: Sendable, Hashable {
    public var isReady: Bool
    public var database: String
    public var schema: String
}
