import Domain
import Foundation

/// One section of a report as a table: a CSV file of the ZIP (or `section=`), and the table beside its chart in
/// the HTML page. Both renderers read only these, so the page, the CSV and the JSON show the same figures.
public struct ReportTable: Sendable, Hashable {
    /// A cell: its text, whether it is a figure (right-aligned, never neutralised), and where in the JSON document
    /// it comes from (`holder.tasks.received`), for the summary's figures.
    public struct Cell: Sendable, Hashable {
        public var text: String
        public var isFigure: Bool
        public var field: String?

        static func text(_ value: String?) -> Cell { Cell(text: value ?? "", isFigure: false, field: nil) }
        static func figure(_ value: Int, field: String? = nil) -> Cell { Cell(text: String(value), isFigure: true, field: field) }
        static func decimal(_ value: Double?) -> Cell { Cell(text: value.map(ReportTable.decimal) ?? "", isFigure: true, field: nil) }
    }

    /// Its name in `section=` and in the ZIP (`<name>.csv`).
    public var name: String
    public var title: String
    public var columns: [String]
    public var rows: [[Cell]]

    /// A decimal (minutes, hours) as written in every table: to one decimal place, without a trailing `.0`.
    static func decimal(_ value: Double) -> String {
        let rounded = value.roundedToTenth
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }
}

extension Report {
    /// The report's sections as tables, in the order the page shows them.
    public var tables: [ReportTable] {
        var tables = [ReportTable(name: "summary", title: "Summary", columns: ["Measure", "Value"], rows: summary)]
        if let holder {
            tables.append(Self.turnaroundTable(holder.turnaround))
            tables.append(
                ReportTable(
                    name: "cameras", title: "Cameras by kind and status", columns: ["Kind", "Operational", "Faulty", "Planned", "Decommissioned"],
                    rows: holder.cameras.map {
                        [.text($0.kind.rawValue), .figure($0.operational), .figure($0.faulty), .figure($0.planned), .figure($0.decommissioned)]
                    }))
            tables.append(
                ReportTable(
                    name: "rooms", title: "Control rooms",
                    columns: ["Room", "Status", "Boroughs served", "Operator positions", "Cameras in service", "Police embedded"],
                    rows: holder.rooms.map {
                        [
                            .text($0.name), .text($0.status), .text($0.boroughsServed.joined(separator: " ")),
                            $0.operatorPositions.map { .figure($0) } ?? .text(nil), .figure($0.camerasInService), .text($0.embedded ? "yes" : "no"),
                        ]
                    }))
            tables.append(
                ReportTable(
                    name: "arrangements", title: "Police arrangements in force",
                    columns: ["Room", "Police", "Model", "Staff", "Hours a week", "Review due"],
                    rows: holder.arrangements.map {
                        [
                            .text($0.room), .text($0.policeOrganisation), .text($0.model), $0.staffCount.map { .figure($0) } ?? .text(nil),
                            .decimal($0.hoursPerWeek), .text($0.reviewDueOn?.description),
                        ]
                    }))
            tables.append(Self.trendTable(holder.trend))
        }
        if let police {
            tables.append(
                ReportTable(
                    name: "requests_by_borough", title: "Requests by borough of the incident", columns: ["GSS code", "Borough", "Requests"],
                    rows: police.requestsByBorough.map { [.text($0.gssCode), .text($0.name), .figure($0.requests)] }))
            tables.append(Self.holderTable(name: "holders", title: "Each holder's work on your tasks", police.holders))
            tables.append(
                ReportTable(
                    name: "no_camera_requests", title: "Requests that tasked no camera", columns: ["Reference", "Why", "Borough"],
                    rows: police.noCameraRequests.map { [.text($0.reference), .text($0.reason), .text($0.gssCode)] }))
            tables.append(Self.trendTable(police.trend))
        }
        if let london {
            tables.append(Self.turnaroundTable(london.turnaround))
            tables.append(Self.holderTable(name: "league", title: "Every borough side by side", london.league))
            tables.append(
                ReportTable(
                    name: "embedding", title: "Rooms with police embedded against the others",
                    columns: [
                        "Rooms", "Count", "Received", "Acknowledged", "Within target", "Median to acknowledge (min)", "Median to export (min)",
                        "Exported", "No footage", "Rejected",
                    ],
                    rows: london.embedding.map {
                        [
                            .text($0.embedded ? "embedded" : "not embedded"), .figure($0.rooms), .figure($0.tasks.received),
                            .figure($0.tasks.acknowledged),
                            .figure($0.acknowledgedWithinTarget), .decimal($0.medianAcknowledgeMinutes), .decimal($0.medianExportMinutes),
                            .figure($0.tasks.exported), .figure($0.tasks.noFootage), .figure($0.tasks.rejected),
                        ]
                    }))
            if let value = london.valueForMoney {
                tables.append(Self.valueTable(value))
            }
            tables.append(Self.trendTable(london.trend))
            tables.append(
                ReportTable(
                    name: "proposals", title: "Shared control-room proposals",
                    columns: ["Proposal", "Status", "Decision", "Milestones", "Completed", "Overdue", "Next milestone", "Due"],
                    rows: london.proposals.map {
                        [
                            .text($0.title), .text($0.status), .text($0.decisionReference), .figure($0.milestones), .figure($0.milestonesCompleted),
                            .figure($0.milestonesOverdue), .text($0.nextMilestone), .text($0.nextDueOn?.description),
                        ]
                    }))
        }
        return tables
    }

    /// The headline figures, each naming where it sits in the JSON document.
    var summary: [[ReportTable.Cell]] {
        func row(_ label: String, _ value: Int, _ field: String) -> [ReportTable.Cell] { [.text(label), .figure(value, field: field)] }
        func tasks(_ counts: TaskCounts, _ prefix: String) -> [[ReportTable.Cell]] {
            [
                row("Tasks received", counts.received, prefix + ".received"), row("Acknowledged", counts.acknowledged, prefix + ".acknowledged"),
                row("Exported", counts.exported, prefix + ".exported"), row("Collected", counts.collected, prefix + ".collected"),
                row("No footage", counts.noFootage, prefix + ".no_footage"), row("Rejected", counts.rejected, prefix + ".rejected"),
                row("Cancelled", counts.cancelled, prefix + ".cancelled"),
            ]
        }
        func breaches(_ breaches: Breaches, _ prefix: String) -> [[ReportTable.Cell]] {
            [
                row("Acknowledge deadlines missed", breaches.acknowledge, prefix + ".acknowledge"),
                row("Export deadlines missed", breaches.export, prefix + ".export"),
                row("Escalated at the day's end", breaches.escalatedAtEnd, prefix + ".escalated_at_end"),
            ]
        }
        func lost(_ lost: LostFootage, _ prefix: String) -> [[ReportTable.Cell]] {
            [
                row("Cameras already overwritten when asked", lost.alreadyOverwritten, prefix + ".already_overwritten"),
                row("Cameras overwritten before export", lost.overwrittenBeforeExport, prefix + ".overwritten_before_export"),
            ]
        }
        func requests(_ counts: RequestCounts, _ prefix: String) -> [[ReportTable.Cell]] {
            [
                row("Requests made", counts.made, prefix + ".made"), row("Urgent", counts.urgent, prefix + ".urgent"),
                row("Standard", counts.standard, prefix + ".standard"), row("Found no camera", counts.noCameraFound, prefix + ".no_camera_found"),
                row("Every camera already overwritten", counts.allOverwritten, prefix + ".all_overwritten"),
            ]
        }
        var rows: [[ReportTable.Cell]] = []
        if let holder {
            rows += tasks(holder.tasks, "holder.tasks") + breaches(holder.breaches, "holder.breaches")
            rows.append(row("At risk at the day's end", holder.atRiskAtEnd, "holder.at_risk_at_end"))
            var median = ReportTable.Cell.decimal(holder.medianAcknowledgeMinutes)
            median.field = "holder.median_acknowledge_minutes"
            rows.append([.text("Median minutes to acknowledge"), median])
            rows += lost(holder.lostFootage, "holder.lost_footage")
        }
        if let police {
            rows += requests(police.requests, "police.requests")
            rows.append(row("Items collected", police.itemsCollected, "police.items_collected"))
            rows.append(row("Holds ending within 48 hours", police.holdsExpiring, "police.holds_expiring"))
        }
        if let london {
            rows += requests(london.requests, "london.requests") + tasks(london.tasks, "london.tasks") + breaches(london.breaches, "london.breaches")
            rows += lost(london.lostFootage, "london.lost_footage")
        }
        return rows
    }

    static func turnaroundTable(_ turnaround: [Turnaround]) -> ReportTable {
        ReportTable(
            name: "turnaround", title: "Turnaround against the deadlines",
            columns: ["Step", "Priority", "Target (min)", "Tasks", "Within target", "Median (min)", "90th percentile (min)"],
            rows: turnaround.map {
                [
                    .text($0.step.rawValue), .text($0.priority.rawValue), .figure($0.targetMinutes), .figure($0.count), .figure($0.withinTarget),
                    .decimal($0.medianMinutes), .decimal($0.p90Minutes),
                ]
            })
    }

    /// Every room's value for money, then the medians; money in whole pounds.
    static func valueTable(_ value: ReportValueForMoney) -> ReportTable {
        func pounds(_ pence: Int?) -> ReportTable.Cell {
            pence.map { .figure(Int((Double($0) / 100).rounded())) } ?? .text(nil)
        }
        return ReportTable(
            name: "value_for_money", title: "Value for money over the year from \(value.from)",
            columns: [
                "Room", "Police embedded", "Rooms", "Tasks fulfilled", "Cost per camera (£)", "Cost per position (£)", "Cost per fulfilled task (£)",
                "Median to acknowledge (min)", "Median to export (min)",
            ],
            rows: (value.rooms + value.medians).map { line in
                [
                    .text(line.name), .text(line.embedded.map { $0 ? "yes" : "no" }), line.rooms.map { .figure($0) } ?? .text(nil),
                    line.fulfilledTasks.map { .figure($0) } ?? .text(nil), pounds(line.costPerCameraPence), pounds(line.costPerPositionPence),
                    pounds(line.costPerFulfilledTaskPence), .decimal(line.medianAcknowledgeMinutes), .decimal(line.medianExportMinutes),
                ]
            })
    }

    static func trendTable(_ trend: [TrendDay]) -> ReportTable {
        ReportTable(
            name: "trend", title: "The last 30 days",
            columns: ["Date", "Received", "Acknowledged", "Acknowledged within target", "Exported", "Median to acknowledge (min)"],
            rows: trend.map {
                [
                    .text($0.date.description), .figure($0.received), .figure($0.acknowledged), .figure($0.acknowledgedWithinTarget),
                    .figure($0.exported), .decimal($0.medianAcknowledgeMinutes),
                ]
            })
    }

    static func holderTable(name: String, title: String, _ lines: [HolderLine]) -> ReportTable {
        ReportTable(
            name: name, title: title,
            columns: [
                "Holder", "GSS code", "Received", "Acknowledged", "Within target", "Median to acknowledge (min)", "90th percentile (min)", "Exported",
                "Exported within target", "Median to export (min)", "No footage", "Rejected", "Deadlines missed", "Cameras lost",
            ],
            rows: lines.map {
                [
                    .text($0.name), .text($0.gssCode), .figure($0.tasks.received), .figure($0.tasks.acknowledged),
                    .figure($0.acknowledgedWithinTarget),
                    .decimal($0.medianAcknowledgeMinutes), .decimal($0.p90AcknowledgeMinutes), .figure($0.tasks.exported),
                    .figure($0.exportedWithinTarget), .decimal($0.medianExportMinutes), .figure($0.tasks.noFootage), .figure($0.tasks.rejected),
                    .figure($0.breaches), .figure($0.lostCameras),
                ]
            })
    }
}
