import Domain
import Foundation
import Testing

@testable import Reports

@Suite("Reports: tables, CSV, ZIP and HTML from a report")
struct ReportRenderTests {
    static let hostile = "<script>alert('x')</script> & \"=cmd|' /C calc'!A0\""

    /// A holder's report whose every free text is hostile.
    static func report() -> Report {
        var tasks = TaskCounts()
        tasks.received = 3
        tasks.acknowledged = 2
        return Report(
            id: UUID(uuidString: "00000000-0000-4000-8000-000000000001")!, kind: .holder, reportDate: Day("2027-03-28")!,
            organisation: ReportOrganisation(id: UUID(), name: hostile, kind: .borough, gssCode: "E09000033"), timeZone: "Europe/London",
            periodStart: Date(timeIntervalSince1970: 1_774_656_000), periodEnd: Date(timeIntervalSince1970: 1_774_738_800),
            generatedAt: Date(timeIntervalSince1970: 1_774_747_800), activity: true,
            holder: HolderReport(
                tasks: tasks,
                turnaround: [
                    Turnaround(
                        step: .acknowledge, priority: .urgent, targetMinutes: 60, count: 2, withinTarget: 1, medianMinutes: 75, p90Minutes: 111.25)
                ], medianAcknowledgeMinutes: 75, breaches: Breaches(), atRiskAtEnd: 0, lostFootage: LostFootage(), cameras: [],
                rooms: [
                    ReportRoom(
                        id: UUID(), name: "=HYPERLINK(\"http://x\")", status: "active", boroughsServed: ["E09000033"], operatorPositions: 3,
                        camerasInService: 10, embedded: true)
                ],
                arrangements: [], trend: []))
    }

    static let outlines = BoroughOutlines(
        width: 100, height: 50, boroughs: [BoroughOutlines.Borough(gssCode: "E09000033", name: "Westminster", path: "M 0 0 L 10 0 L 10 10 Z")])

    @Test func htmlEscapesEveryFreeTextAndLoadsNothing() {
        let page = ReportHTML.page(Self.report(), outlines: Self.outlines)
        #expect(!page.contains("<script"), "no markup from data")
        #expect(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;=cmd|&#39; /C calc&#39;!A0&quot;"))
        #expect(page.contains(#"content="default-src 'none'; style-src 'unsafe-inline'; img-src data:""#))
        #expect(!page.contains("src=") && !page.contains("href="), "no attribute that loads or links anything")
        #expect(page.contains(#"data-field="holder.tasks.received">3</td>"#))
        #expect(page.contains(#"data-field="holder.median_acknowledge_minutes">75</td>"#))
    }

    @Test func csvNeutralisesFormulaTextButNotFigures() throws {
        let rooms = try #require(Self.report().tables.first { $0.name == "rooms" })
        let csv = ReportCSV.csv(rooms)
        #expect(csv.hasPrefix("Room,Status,Boroughs served,Operator positions,Cameras in service,Police embedded\r\n"))
        #expect(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\",active,E09000033,3,10,yes\r\n"), "\(csv)")
        let turnaround = try #require(Self.report().tables.first { $0.name == "turnaround" })
        #expect(ReportCSV.csv(turnaround).contains("acknowledge,urgent,60,2,1,75,111.3\r\n"), "decimals to a tenth, without a trailing .0")
    }

    @Test func theZipIsStoredEntriesWithTheirCRC() {
        // The check value of CRC-32 (ISO 3309) for "123456789".
        #expect(ZipArchive.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        let zip = ReportCSV.zip(Self.report())
        #expect(zip.starts(with: [0x50, 0x4b, 0x03, 0x04]), "a local file header first")
        #expect(Array(zip.suffix(22).prefix(4)) == [0x50, 0x4b, 0x05, 0x06], "the end of the central directory last")
        let entries = Int(zip[zip.count - 22 + 10]) | Int(zip[zip.count - 22 + 11]) << 8
        #expect(entries == Self.report().tables.count)
    }

    @Test func aQuietDaySaysSo() {
        var quiet = Self.report()
        quiet.activity = false
        #expect(ReportHTML.page(quiet, outlines: Self.outlines).contains("No activity on this day"))
        #expect(!ReportHTML.page(Self.report(), outlines: Self.outlines).contains("No activity on this day"))
    }
}
