import Domain
import LibPQ

/// Calendar dates between the API's `Day` and PostgreSQL's `date`.
extension PostgresDate {
    init(_ day: Day) { self.init(year: day.year, month: day.month, day: day.day) }
}

extension Day {
    init(_ date: PostgresDate) throws {
        guard let day = Day(year: date.year, month: date.month, day: date.day) else { throw StoredValueError(column: "date") }
        self = day
    }
}
