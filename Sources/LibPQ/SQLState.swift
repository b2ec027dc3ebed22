/// Names for the SQLSTATE codes this service meets, from PostgreSQL's Appendix A.
public enum SQLState {
    /// `unique_violation`: a unique index or constraint refused the row.
    public static let uniqueViolation = "23505"
    /// `foreign_key_violation`.
    public static let foreignKeyViolation = "23503"
    /// `check_violation`.
    public static let checkViolation = "23514"
    /// `not_null_violation`.
    public static let notNullViolation = "23502"
    /// `serialization_failure`: retry the transaction.
    public static let serializationFailure = "40001"
    /// `deadlock_detected`: retry the transaction.
    public static let deadlockDetected = "40P01"
    /// `undefined_table`.
    public static let undefinedTable = "42P01"
    /// `raise_exception`: raised by our own PL/pgSQL, e.g. the audit log refusing UPDATE.
    public static let raiseException = "P0001"

    private static let names: [String: String] = [
        "08000": "connection_exception", "08003": "connection_does_not_exist", "08006": "connection_failure",
        "22001": "string_data_right_truncation", "22003": "numeric_value_out_of_range", "22007": "invalid_datetime_format",
        "22008": "datetime_field_overflow", "22P02": "invalid_text_representation", "23502": "not_null_violation",
        "23503": "foreign_key_violation", "23505": "unique_violation", "23514": "check_violation",
        "25P02": "in_failed_sql_transaction", "40001": "serialization_failure", "40P01": "deadlock_detected",
        "42501": "insufficient_privilege", "42601": "syntax_error", "42703": "undefined_column",
        "42883": "undefined_function", "42P01": "undefined_table", "42P08": "ambiguous_parameter",
        "55P03": "lock_not_available", "57014": "query_canceled", "57P01": "admin_shutdown",
        "57P02": "crash_shutdown", "57P03": "cannot_connect_now", "P0001": "raise_exception",
    ]

    /// The condition name of `code`, or the class it belongs to when this table does not list it.
    public static func conditionName(_ code: String) -> String {
        names[code] ?? "class \(code.prefix(2))"
    }
}
