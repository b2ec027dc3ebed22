import Foundation

/// The scheduler's one-off alerts on a task (DESIGN §4.1 step 7), each raised once: the overwrite drawing near
/// a task nobody has acknowledged, and the hold drawing to its end on footage not yet collected.
public enum EvidenceAlert: String, Sendable, Hashable, CaseIterable, Codable {
    /// An unacknowledged task within 24 hours of its overwrite.
    case atRisk24h = "at_risk_24h"
    /// An unacknowledged task within 2 hours of its overwrite.
    case atRisk2h = "at_risk_2h"
    /// A hold ends within 48 hours and the footage is not collected.
    case holdExpiring = "hold_expiring"
    /// A hold ended and the footage is not collected.
    case holdExpired = "hold_expired"

    /// How long before a hold ends `hold_expiring` is raised.
    public static let holdWarning: TimeInterval = 48 * 3600

    /// The event it raises.
    public var eventType: EventType {
        switch self {
        case .atRisk24h, .atRisk2h: .evidenceTaskAtRisk
        case .holdExpiring: .evidenceTaskHoldExpiring
        case .holdExpired: .evidenceTaskHoldExpired
        }
    }

    /// What the event's data says about it.
    public var eventFields: JSONObject {
        switch self {
        case .atRisk24h: ["alert": "overwrite_within_24h"]
        case .atRisk2h: ["alert": "overwrite_within_2h"]
        case .holdExpiring: ["alert": "hold_ends_within_48h"]
        case .holdExpired: ["alert": "hold_ended"]
        }
    }

    /// The alerts about a hold, which an extension makes due again.
    public static let hold: Set<EvidenceAlert> = [.holdExpiring, .holdExpired]
}

/// A breached deadline, raised when it passes and again every 24 hours while the task stays unresolved, each
/// time one level higher and told more widely.
public struct EvidenceEscalation: Sendable, Hashable {
    /// The deadline that was missed.
    public enum Deadline: String, Sendable, Hashable {
        case acknowledge, export
    }

    /// How long each level lasts before the next.
    public static let interval: TimeInterval = 24 * 3600

    public var deadline: Deadline
    /// 1 when the deadline passes, one more every 24 hours after.
    public var level: Int

    /// An escalation from its parts.
    public init(deadline: Deadline, level: Int) {
        self.deadline = deadline
        self.level = level
    }

    /// The escalation in force at `now` on a task in `status`: a pending task's acknowledgement deadline, an
    /// acknowledged task's export deadline; `nil` before that deadline, and for a task no longer live.
    public static func current(status: EvidenceTaskStatus, ackDueAt: Date, exportDueAt: Date, now: Date) -> EvidenceEscalation? {
        let missed: (Deadline, Date)
        switch status {
        case .pending: missed = (.acknowledge, ackDueAt)
        case .acknowledged: missed = (.export, exportDueAt)
        case .exported, .collected, .rejected, .noFootage, .cancelled: return nil
        }
        guard now > missed.1 else { return nil }
        return EvidenceEscalation(deadline: missed.0, level: 1 + Int(now.timeIntervalSince(missed.1) / interval))
    }

    /// The roles each party's own routing should reach: the holder's operators and the requester's requesters at
    /// level 1; from level 2 each organisation's partner admins too. Sightline tells organisations (its event
    /// audience is the holder and the requester at every level); these name whom they tell.
    public var escalateTo: (holder: [Role], requester: [Role]) {
        level >= 2 ? ([.operator, .partnerAdmin], [.requester, .partnerAdmin]) : ([.operator], [.requester])
    }

    /// What the `evidence_task.sla_breached` event's data says about it.
    public var eventFields: JSONObject {
        let (holder, requester) = escalateTo
        return [
            "deadline": .string(deadline.rawValue), "escalation_level": .integer(level),
            "escalate_to_holder": .array(holder.map { .string($0.rawValue) }),
            "escalate_to_requester": .array(requester.map { .string($0.rawValue) }),
        ]
    }
}

/// What the scheduler owes one task at a moment: alerts not yet raised, and an escalation above the task's level.
public struct EvidenceTaskDue: Sendable, Hashable {
    /// The alerts to raise now.
    public var raise: [EvidenceAlert]
    /// The alerts to record as raised (those raised, and any they make pointless).
    public var mark: Set<EvidenceAlert>
    /// The escalation to raise, when its level is above the task's.
    public var escalation: EvidenceEscalation?

    /// What a task is due at `now`, given what it has had (`raised`, `escalationLevel`). When two alerts of a
    /// kind fall due at once (a task created less than two hours before its overwrite; a hold found already
    /// ended), only the later one is raised and the earlier is marked with it, so it never follows.
    public static func at(
        _ now: Date, status: EvidenceTaskStatus, overwriteAt: Date, ackDueAt: Date, exportDueAt: Date, holdUntil: Date?, holdReleased: Bool,
        raised: Set<EvidenceAlert>, escalationLevel: Int
    ) -> EvidenceTaskDue {
        var raise: [EvidenceAlert] = []
        var mark: Set<EvidenceAlert> = []
        func due(_ alert: EvidenceAlert, from start: Date, supersedes earlier: EvidenceAlert? = nil) -> Bool {
            guard now >= start, !raised.contains(alert) else { return false }
            raise.append(alert)
            mark.formUnion([alert] + (earlier.map { [$0] } ?? []))
            return true
        }
        if status == .pending, !due(.atRisk2h, from: overwriteAt.addingTimeInterval(-2 * 3600), supersedes: .atRisk24h) {
            _ = due(.atRisk24h, from: overwriteAt.addingTimeInterval(-24 * 3600))
        }
        if let holdUntil, !holdReleased, EvidenceTaskMachine.keepsHold(status),
            !due(.holdExpired, from: holdUntil, supersedes: .holdExpiring)
        {
            _ = due(.holdExpiring, from: holdUntil.addingTimeInterval(-EvidenceAlert.holdWarning))
        }
        var escalation = EvidenceEscalation.current(status: status, ackDueAt: ackDueAt, exportDueAt: exportDueAt, now: now)
        if let current = escalation, current.level <= escalationLevel { escalation = nil }
        return EvidenceTaskDue(raise: raise, mark: mark.subtracting(raised), escalation: escalation)
    }
}
