import LibPQ

/// Answers the readiness question: can this instance use the database now?
public struct DatabaseHealth: Sendable {
    private let pool: PostgresPool
    private let migrator: Migrator

    /// A checker over `pool` that compares the schema with `migrator`'s migrations.
    public init(pool: PostgresPool, migrator: Migrator) {
        self.pool = pool
        self.migrator = migrator
    }

    /// The database's state: `nil` for the database when it answered, else why not; the schema's status.
    public func check() async -> (database: String?, schema: SchemaStatus?) {
        do {
            return (nil, try await migrator.status(pool))
        } catch let error as PostgresError {
            return (error.isUnavailable ? "unreachable" : "\(error)", nil)
        } catch {
            return ("\(error)", nil)
        }
    }
}
