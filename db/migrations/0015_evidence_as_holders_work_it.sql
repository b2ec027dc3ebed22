-- Evidence as holders work it (issue 14): who to call about a request, holds that end, escalation, and clock
-- offsets that are absent when not measured.

-- The requester's contact, shown on every task; the API requires one for an urgent request.
ALTER TABLE evidence_requests
    ADD COLUMN contact_name  text CHECK (length(contact_name) BETWEEN 1 AND 200),
    ADD COLUMN contact_role  text CHECK (length(contact_role) BETWEEN 1 AND 100),
    ADD COLUMN contact_email text CHECK (length(contact_email) BETWEEN 3 AND 254),
    ADD COLUMN contact_phone text CHECK (length(contact_phone) BETWEEN 7 AND 40),
    ADD CONSTRAINT evidence_requests_contact_reachable
        CHECK (contact_name IS NULL OR contact_email IS NOT NULL OR contact_phone IS NOT NULL);

-- `escalation_level`: 0 while the deadline that matters now (acknowledge while pending, export while
-- acknowledged) has not passed; 1 when it passes and one more every 24 hours after. The alerts job raises each
-- level once; a move to another deadline starts again from 0.
-- `hold_released_at`: when the hold ended with the task (collected, rejected, no footage, cancelled).
ALTER TABLE evidence_tasks
    ADD COLUMN escalation_level integer NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
    ADD COLUMN hold_released_at timestamptz;

-- The breaches already raised before levels existed are level 1; settled tasks release their holds.
UPDATE evidence_tasks SET escalation_level = 1
WHERE (status = 'pending' AND 'ack_breached' = ANY (raised)) OR (status = 'acknowledged' AND 'export_breached' = ANY (raised));
UPDATE evidence_tasks SET hold_released_at = updated_at
WHERE hold_until IS NOT NULL AND status IN ('collected', 'rejected', 'no_footage', 'cancelled');

-- A clock offset nobody measured is unknown, not zero. Offsets recorded before this change cannot be told
-- apart from measured zeros, and stay as they are.
ALTER TABLE evidence_items ALTER COLUMN clock_offset_s DROP NOT NULL, ALTER COLUMN clock_offset_s DROP DEFAULT,
    -- Checked for new items only: items registered before allowed a week either way.
    ADD CONSTRAINT evidence_items_clock_offset_within_a_day CHECK (clock_offset_s BETWEEN -86400 AND 86400) NOT VALID;

-- A chain of custody names people: who exported, uploaded, downloaded, handed over or collected each item,
-- by staff or collar number and name, beside the key they used. Events before this change name a key only.
ALTER TABLE custody_events
    ADD COLUMN person_number text CHECK (length(person_number) BETWEEN 1 AND 32),
    ADD COLUMN person_name   text CHECK (length(person_name) BETWEEN 1 AND 200);
