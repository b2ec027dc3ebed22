import Domain
import Foundation

/// A keyset position in a list ordered by a time and an id: the time in whole microseconds (exact, unlike a
/// float) and the id. In SQL the time is `timestamptz 'epoch' + $n::bigint * interval '1 microsecond'`.
struct TimeCursor {
    var microseconds: Int
    var id: UUID

    /// The position `page`'s cursor names, `nil` on the first page, or a `ValidationError` for a cursor of another list.
    static func after(_ page: PageRequest) throws -> TimeCursor? {
        guard let key = page.cursor?.key else { return nil }
        guard key.count == 2, let microseconds = Int(key[0]), let id = UUID(uuidString: key[1]) else {
            throw ValidationError([.init(parameter: "cursor", detail: "is not a cursor for this list")])
        }
        return TimeCursor(microseconds: microseconds, id: id)
    }

    /// The cursor key of a row with `time` and `id`.
    static func key(_ time: Date, _ id: UUID) -> [String] {
        [String(Int((time.timeIntervalSince1970 * 1_000_000).rounded())), id.uuidString]
    }
}
