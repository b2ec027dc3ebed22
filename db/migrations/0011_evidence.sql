-- Evidence retrieval (DESIGN §3, §4.1): an investigator's request, one task per holder of the cameras that
-- could have seen the incident, the items each holder exports and the append-only custody trail of each item.
-- Every mutable row has `version`, the ETag of the API; an event's `sequence` is its subject's version.

-- References are SL-YYYY-NNNNNN, numbered per year. Each year has its own sequence, created by the first
-- request of that year: numbering never waits on another transaction (a counter row would serialise every
-- create behind the previous commit), at the price of a gap when a create rolls back.
CREATE FUNCTION evidence_reference(p_at timestamptz) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    year integer := extract(year FROM p_at AT TIME ZONE 'UTC')::integer;
    sequence_name text := 'evidence_reference_' || year;
BEGIN
    IF to_regclass(sequence_name) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE %I MAXVALUE 999999 NO CYCLE', sequence_name);
        EXCEPTION WHEN duplicate_table OR unique_violation THEN
            NULL; -- Another request created it first.
        END;
    END IF;
    RETURN format('SL-%s-%s', year, lpad(nextval(sequence_name)::text, 6, '0'));
END;
$$;

CREATE TABLE evidence_requests (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference          text NOT NULL UNIQUE CHECK (reference ~ '^SL-[0-9]{4}-[0-9]{6}$'),
    requester_org_id   uuid NOT NULL REFERENCES organisations (id),
    requester_key_id   uuid REFERENCES api_keys (id),
    crime_reference    text NOT NULL CHECK (length(crime_reference) BETWEEN 1 AND 100),
    incident_reference text CHECK (length(incident_reference) <= 100),
    offence            text NOT NULL CHECK (length(offence) BETWEEN 1 AND 200),
    priority           text NOT NULL CHECK (priority IN ('urgent', 'standard')),
    legal_basis        text NOT NULL CHECK (length(legal_basis) BETWEEN 1 AND 500),
    authorised_by      text NOT NULL CHECK (length(authorised_by) BETWEEN 1 AND 200),
    location           geography(Point, 4326) NOT NULL,
    radius_m           integer NOT NULL CHECK (radius_m BETWEEN 1 AND 1000),
    window_from        timestamptz NOT NULL,
    window_to          timestamptz NOT NULL,
    required_dori      text CHECK (required_dori IN ('identify', 'recognise', 'observe', 'detect', 'monitor')),
    camera_ids         uuid[] NOT NULL DEFAULT '{}',
    notes              text CHECK (length(notes) <= 4000),
    -- Derived from the tasks (§4.1 step 5) and kept here so lists filter on it.
    status             text NOT NULL CHECK (status IN ('open', 'completed', 'no_footage', 'cancelled')),
    -- Why a request has no task: `no_cameras_found` or `all_overwritten`.
    status_reason      text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    version            integer NOT NULL DEFAULT 1,
    CHECK (window_to > window_from AND window_to - window_from <= interval '24 hours')
);

CREATE INDEX evidence_requests_requester ON evidence_requests (requester_org_id, created_at DESC, id);

-- Cameras a request found but did not task, and why (`already_overwritten`, `not_in_service`).
CREATE TABLE evidence_request_exclusions (
    request_id   uuid NOT NULL REFERENCES evidence_requests (id),
    camera_id    uuid NOT NULL REFERENCES cameras (id),
    reason       text NOT NULL CHECK (reason IN ('already_overwritten', 'not_in_service')),
    overwrite_at timestamptz,
    covert       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (request_id, camera_id)
);

CREATE TABLE evidence_tasks (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id       uuid NOT NULL REFERENCES evidence_requests (id),
    requester_org_id uuid NOT NULL REFERENCES organisations (id),
    holder_org_id    uuid NOT NULL REFERENCES organisations (id),
    control_room_id  uuid REFERENCES control_rooms (id),
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'acknowledged', 'exported', 'collected', 'rejected', 'no_footage', 'cancelled')),
    priority         text NOT NULL CHECK (priority IN ('urgent', 'standard')),
    ack_due_at       timestamptz NOT NULL,
    export_due_at    timestamptz NOT NULL,
    overwrite_at     timestamptz NOT NULL,
    at_risk          boolean NOT NULL,
    hold_until       timestamptz,
    acknowledged_at  timestamptz,
    acknowledged_by  uuid REFERENCES api_keys (id),
    outcome_reason   text,
    outcome_notes    text CHECK (length(outcome_notes) <= 2000),
    -- Every camera of the task is covert: the task exists only for keys that may know of such cameras.
    covert           boolean NOT NULL DEFAULT false,
    -- The scheduler's alerts already raised (`at_risk_24h`, `at_risk_2h`, `ack_breached`, `export_breached`):
    -- each is raised once, whichever instance gets there first.
    raised           text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    version          integer NOT NULL DEFAULT 1,
    UNIQUE (request_id, holder_org_id, control_room_id)
);

CREATE INDEX evidence_tasks_request ON evidence_tasks (request_id);
CREATE INDEX evidence_tasks_holder ON evidence_tasks (holder_org_id, status);
CREATE INDEX evidence_tasks_requester ON evidence_tasks (requester_org_id, status);
-- The scheduler's scan: live tasks by deadline.
CREATE INDEX evidence_tasks_live ON evidence_tasks (overwrite_at) WHERE status IN ('pending', 'acknowledged');

CREATE TABLE evidence_task_cameras (
    task_id      uuid NOT NULL REFERENCES evidence_tasks (id),
    camera_id    uuid NOT NULL REFERENCES cameras (id),
    overwrite_at timestamptz NOT NULL,
    covert       boolean NOT NULL DEFAULT false,
    outcome      text NOT NULL DEFAULT 'pending'
                 CHECK (outcome IN ('pending', 'exported', 'no_footage', 'rejected', 'cancelled')),
    PRIMARY KEY (task_id, camera_id)
);

CREATE TABLE evidence_items (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id        uuid NOT NULL REFERENCES evidence_tasks (id),
    camera_id      uuid REFERENCES cameras (id),
    exhibit_ref    text NOT NULL CHECK (length(exhibit_ref) BETWEEN 1 AND 100),
    file_name      text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    format         text NOT NULL CHECK (length(format) BETWEEN 1 AND 50),
    size_bytes     bigint NOT NULL CHECK (size_bytes >= 0),
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    recorded_from  timestamptz NOT NULL,
    recorded_to    timestamptz NOT NULL CHECK (recorded_to >= recorded_from),
    clock_offset_s integer NOT NULL DEFAULT 0,
    exported_at    timestamptz NOT NULL DEFAULT now(),
    exported_by    uuid REFERENCES api_keys (id),
    -- The stored content's file name under SIGHTLINE_EVIDENCE_DIR, once uploaded and until purged.
    content_path   text,
    status         text NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'available', 'collected', 'purged')),
    collected_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1,
    UNIQUE (task_id, exhibit_ref)
);

CREATE INDEX evidence_items_task ON evidence_items (task_id, created_at, id);
CREATE INDEX evidence_items_purgeable ON evidence_items (collected_at) WHERE content_path IS NOT NULL;

-- The chain of custody of each item: append-only, like the audit log.
CREATE TABLE custody_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id         uuid NOT NULL REFERENCES evidence_items (id),
    event           text NOT NULL CHECK (event IN ('exported', 'uploaded', 'downloaded', 'handed_over', 'collected', 'purged')),
    organisation_id uuid REFERENCES organisations (id),
    key_prefix      text,
    client_address  text,
    occurred_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    notes           text CHECK (length(notes) <= 2000),
    detail          jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX custody_events_item ON custody_events (item_id, id);

CREATE FUNCTION custody_events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'custody_events is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER custody_events_append_only BEFORE UPDATE OR DELETE ON custody_events
    FOR EACH ROW EXECUTE FUNCTION custody_events_refuse_change();
CREATE TRIGGER custody_events_no_truncate BEFORE TRUNCATE ON custody_events
    FOR EACH STATEMENT EXECUTE FUNCTION custody_events_refuse_change();

GRANT EXECUTE ON FUNCTION evidence_reference(timestamptz) TO sightline_app;
GRANT SELECT, INSERT, UPDATE ON evidence_requests, evidence_tasks, evidence_task_cameras, evidence_items TO sightline_app;
GRANT SELECT, INSERT ON evidence_request_exclusions, custody_events TO sightline_app;
