import Domain
import Testing

@Suite("Domain: paging and GSS codes")
struct PagingTests {
    @Test(arguments: [
        (nil as Int?, 50), (1, 1), (500, 500),
    ])
    func acceptsLimitsFromOneToFiveHundred(limit: Int?, expected: Int) throws {
        #expect(try PageRequest(limit: limit, cursor: nil).limit == expected)
    }

    @Test(arguments: [0, -1, 501, Int.max])
    func rejectsLimitsOutOfRangeNamingTheParameter(limit: Int) {
        let error = #expect(throws: ValidationError.self) { try PageRequest(limit: limit, cursor: nil) }
        #expect(error?.problems == [FieldProblem(parameter: "limit", detail: "must be between 1 and 500")])
    }

    @Test(arguments: ["", "not base64!", "bm90IGpzb24", "W10", String(repeating: "A", count: 3000)])
    func rejectsCursorsTheServerDidNotIssue(cursor: String) {
        let error = #expect(throws: ValidationError.self) { try PageRequest(limit: nil, cursor: cursor) }
        #expect(error?.problems.map(\.pointer) == ["#/parameters/cursor"])
    }

    @Test func reportsEveryBadParameterAtOnce() {
        let error = #expect(throws: ValidationError.self) { try PageRequest(limit: 0, cursor: "junk") }
        #expect(error?.problems.map(\.pointer) == ["#/parameters/limit", "#/parameters/cursor"])
    }

    @Test func cursorsRoundTripThroughTheirTextForm() throws {
        let cursor = Cursor(key: ["London Borough of Camden", "2a7c5b8e-0000-4000-8000-000000000000", "Ünï / + = ?"])
        let text = cursor.encoded
        #expect(!text.contains("+") && !text.contains("/") && !text.contains("="))
        #expect(Cursor(encoded: text) == cursor)
        #expect(try PageRequest(limit: 10, cursor: text).cursor == cursor)
    }

    @Test func aPageHasANextCursorOnlyWhenMoreItemsExist() {
        let full = Page(fetched: [1, 2, 3, 4], limit: 3) { [String($0)] }
        #expect(full.items == [1, 2, 3])
        #expect(full.nextCursor == Cursor(key: ["3"]))
        let last = Page(fetched: [1, 2, 3], limit: 3) { [String($0)] }
        #expect(last.items == [1, 2, 3])
        #expect(last.nextCursor == nil)
        let empty = Page(fetched: [Int](), limit: 3) { [String($0)] }
        #expect(empty.items.isEmpty && empty.nextCursor == nil)
    }

    @Test(arguments: ["E09000001", "E09000017", "E09000033"])
    func acceptsTheThirtyThreeLondonCodes(code: String) {
        #expect(GSSCode(code)?.rawValue == code)
    }

    @Test(arguments: [
        "", "E09000000", "E09000034", "E0900001", "E090000010", "e09000001", "E08000001", "W09000001", "E09-00001", "E09 00001", "E09０00001",
    ])
    func rejectsAnythingElse(code: String) {
        #expect(GSSCode(code) == nil)
    }
}
