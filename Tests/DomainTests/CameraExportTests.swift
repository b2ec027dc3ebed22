import Domain
import Foundation
import Testing

@Suite("Domain: CSV and GeoJSON of cameras")
struct CameraExportTests {
    @Test(arguments: [
        (CSV.Cell.text("=HYPERLINK(\"http://x\")"), #""'=HYPERLINK(""http://x"")""#),
        (.text("+44 20 7946 0000"), "'+44 20 7946 0000"),
        (.text("-2+3"), "'-2+3"),
        (.text("@SUM(A1)"), "'@SUM(A1)"),
        (.text("\tcmd"), "'\tcmd"),
        (.text("\rcmd"), "\"'\rcmd\""),
        (.text("WCC-0042"), "WCC-0042"),
        (.text("a,b"), "\"a,b\""),
        (.text("line\nbreak"), "\"line\nbreak\""),
        (.text(nil), ""),
        (.value("-0.1365"), "-0.1365"),
        (.value("2023-01-01"), "2023-01-01"),
    ])
    func cellsAreNeutralisedAndQuotedAsRFC4180Says(cell: CSV.Cell, expected: String) {
        #expect(CSV.encode(cell) == expected)
    }

    @Test func linesEndInCRLF() {
        #expect(CSV.line([.value("a"), .text("b")]) == "a,b\r\n")
    }

    @Test func geoJSONPutsLongitudeFirstWithAtMostSevenDecimals() throws {
        let camera = Camera(
            id: UUID(), ownerOrganisationID: UUID(),
            draft: CameraDraft(externalRef: "quote \" and \u{1}", kind: .ptz, location: Location(lat: 51.512345678, lon: -0.000000049)),
            boroughMismatch: false, effectiveRetentionDays: 31, createdAt: Date(), updatedAt: Date(), version: 1
        )
        let feature = CameraExport.geoJSONFeature(camera)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(feature.utf8)) as? [String: Any])
        let geometry = try #require(object["geometry"] as? [String: Any])
        #expect(feature.contains(#""coordinates":[0,51.5123457]"#))
        #expect(geometry["type"] as? String == "Point")
        let properties = try #require(object["properties"] as? [String: Any])
        #expect(properties["external_ref"] as? String == "quote \" and \u{1}")
        #expect(properties["kind"] as? String == "ptz")
        #expect(properties["control_room_id"] is NSNull)
    }
}
