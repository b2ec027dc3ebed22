import Domain
import Foundation

/// A report as CSV (RFC 4180, CRLF line ends, spreadsheet-formula cells neutralised): one file per section, singly
/// or together in a ZIP.
public enum ReportCSV {
    /// One section's table with its header row.
    public static func csv(_ table: ReportTable) -> String {
        CSV.line(table.columns.map { .value($0) })
            + table.rows.map { row in CSV.line(row.map { $0.isFigure ? .value($0.text) : .text($0.text) }) }.joined()
    }

    /// Every section, `<section>.csv` each, in one ZIP archive named after the report.
    public static func zip(_ report: Report) -> [UInt8] {
        ZipArchive.stored(report.tables.map { (name: $0.name + ".csv", bytes: Array(csv($0).utf8)) }, modified: report.generatedAt)
    }

    /// The file name a download of `report` takes, without its extension: `sightline-holder-2027-03-28`.
    public static func fileStem(_ report: Report) -> String { "sightline-\(report.kind.rawValue)-\(report.reportDate)" }
}

/// A ZIP archive (PKWARE APPNOTE 6.3) of files stored uncompressed: small CSV files need no deflate, and every
/// unzip tool and spreadsheet reads stored entries.
enum ZipArchive {
    static func stored(_ files: [(name: String, bytes: [UInt8])], modified: Date) -> [UInt8] {
        let (time, date) = dosTime(modified)
        var archive: [UInt8] = []
        var directory: [UInt8] = []
        for file in files {
            let name = Array(file.name.utf8)
            let crc = crc32(file.bytes)
            let offset = UInt32(archive.count)
            // Local file header: version 2.0, UTF-8 names (bit 11), stored, then the name and the bytes.
            archive +=
                le32(0x0403_4b50) + le16(20) + le16(0x0800) + le16(0) + le16(time) + le16(date) + le32(crc)
                + le32(UInt32(file.bytes.count)) + le32(UInt32(file.bytes.count)) + le16(UInt16(name.count)) + le16(0) + name + file.bytes
            directory +=
                le32(0x0201_4b50) + le16(20) + le16(20) + le16(0x0800) + le16(0) + le16(time) + le16(date) + le32(crc)
                + le32(UInt32(file.bytes.count)) + le32(UInt32(file.bytes.count)) + le16(UInt16(name.count)) + le16(0) + le16(0) + le16(0)
                + le16(0) + le32(0) + le32(offset) + name
        }
        let directoryOffset = UInt32(archive.count)
        archive += directory
        archive +=
            le32(0x0605_4b50) + le16(0) + le16(0) + le16(UInt16(files.count)) + le16(UInt16(files.count))
            + le32(UInt32(directory.count)) + le32(directoryOffset) + le16(0)
        return archive
    }

    /// MS-DOS time and date (UTC; the format has no zone).
    static func dosTime(_ date: Date) -> (UInt16, UInt16) {
        let day = Day(date)
        let second = Int(date.timeIntervalSince1970) - day.daysSince1970 * 86_400
        let time = UInt16((second / 3600) << 11 | ((second % 3600) / 60) << 5 | (second % 60) / 2)
        return (time, UInt16(max(0, day.year - 1980) << 9 | day.month << 5 | day.day))
    }

    private static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// CRC-32 (ISO 3309), as ZIP checks each file.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    private static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    private static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
}
