-- The registry: control rooms and the boroughs each serves, cameras, police embedding arrangements, and the
-- outbox of events about them (DESIGN §3, §4.2). Every mutable row has `version`, the ETag of the API, bumped
-- by each change; an event's `sequence` is its subject's version after the change, so it rises per subject.

CREATE TABLE control_rooms (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    operator_org_id        uuid NOT NULL REFERENCES organisations (id),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    location               geography(Point, 4326),
    address                text CHECK (length(address) <= 500),
    hours                  text NOT NULL DEFAULT '24x7' CHECK (length(hours) BETWEEN 1 AND 200),
    operator_positions     integer CHECK (operator_positions BETWEEN 0 AND 1000),
    vms_platform           text CHECK (length(vms_platform) <= 200),
    export_formats         text[] NOT NULL DEFAULT '{}',
    default_retention_days integer NOT NULL DEFAULT 31 CHECK (default_retention_days BETWEEN 1 AND 3650),
    annual_cost_pence      bigint CHECK (annual_cost_pence >= 0),
    status                 text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'merged', 'closed')),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    version                integer NOT NULL DEFAULT 1
);

CREATE INDEX control_rooms_operator ON control_rooms (operator_org_id);
CREATE INDEX control_rooms_name ON control_rooms (name, id);

CREATE TABLE control_room_boroughs (
    control_room_id uuid NOT NULL REFERENCES control_rooms (id) ON DELETE CASCADE,
    gss_code        text NOT NULL REFERENCES boroughs (gss_code),
    PRIMARY KEY (control_room_id, gss_code)
);

CREATE INDEX control_room_boroughs_gss ON control_room_boroughs (gss_code, control_room_id);

CREATE TABLE cameras (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_org_id      uuid NOT NULL REFERENCES organisations (id),
    control_room_id   uuid REFERENCES control_rooms (id),
    external_ref      text CHECK (length(external_ref) BETWEEN 1 AND 100),
    kind              text NOT NULL CHECK (kind IN ('fixed', 'ptz', 'multi_sensor', 'anpr', 'redeployable', 'body_worn',
                                                    'doorbell', 'other')),
    location          geography(Point, 4326) NOT NULL,
    borough_gss       text REFERENCES boroughs (gss_code),
    -- The borough the location falls in, when it differs from borough_gss as given (flagged, not refused:
    -- boundaries are simplified and a camera on a border may be registered to its neighbour).
    borough_mismatch  boolean NOT NULL DEFAULT false,
    heading_deg       numeric(5, 2) CHECK (heading_deg >= 0 AND heading_deg < 360),
    field_of_view_deg numeric(5, 2) CHECK (field_of_view_deg > 0 AND field_of_view_deg <= 360),
    max_dori          text CHECK (max_dori IN ('identify', 'recognise', 'observe', 'detect', 'monitor')),
    retention_days    integer CHECK (retention_days BETWEEN 1 AND 3650),
    status            text NOT NULL DEFAULT 'operational' CHECK (status IN ('operational', 'faulty', 'decommissioned',
                                                                             'planned')),
    commissioned_on   date,
    decommissioned_on date,
    last_replaced_on  date,
    condition         smallint CHECK (condition BETWEEN 1 AND 5),
    public_space      boolean NOT NULL DEFAULT true,
    covert            boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           integer NOT NULL DEFAULT 1,
    CHECK (decommissioned_on IS NULL OR commissioned_on IS NULL OR decommissioned_on >= commissioned_on),
    CHECK ((status = 'decommissioned') = (decommissioned_on IS NOT NULL))
);

CREATE INDEX cameras_location ON cameras USING gist (location);
CREATE INDEX cameras_owner ON cameras (owner_org_id, id);
CREATE INDEX cameras_room ON cameras (control_room_id, id);
CREATE INDEX cameras_borough ON cameras (borough_gss, id);
CREATE UNIQUE INDEX cameras_owner_external_ref ON cameras (owner_org_id, external_ref) WHERE external_ref IS NOT NULL;

CREATE TABLE embedding_arrangements (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    control_room_id uuid NOT NULL REFERENCES control_rooms (id),
    police_org_id   uuid NOT NULL REFERENCES organisations (id),
    model           text NOT NULL CHECK (model IN ('embedded', 'visiting', 'remote_link')),
    staff_count     integer CHECK (staff_count BETWEEN 0 AND 1000),
    hours_per_week  numeric(6, 2) CHECK (hours_per_week BETWEEN 0 AND 168),
    starts_on       date NOT NULL,
    ends_on         date,
    agreement_ref   text CHECK (length(agreement_ref) <= 200),
    review_due_on   date,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1,
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);

CREATE INDEX embedding_arrangements_room ON embedding_arrangements (control_room_id, starts_on);
CREATE INDEX embedding_arrangements_police ON embedding_arrangements (police_org_id, starts_on);

-- The transactional outbox: written in the transaction of the change it describes. `audience` lists the
-- organisations that may hear of it; `covert` marks events about covert cameras, shown only to keys that may
-- know of such a camera (neither confirm nor deny).
CREATE TABLE events (
    position   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    type       text NOT NULL CHECK (type ~ '^[a-z_]+\.[a-z_]+$'),
    subject    text NOT NULL,
    sequence   integer NOT NULL,
    audience   uuid[] NOT NULL,
    covert     boolean NOT NULL DEFAULT false,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject, sequence)
);

CREATE INDEX events_audience ON events USING gin (audience);
CREATE INDEX events_created ON events (created_at);

GRANT SELECT, INSERT, UPDATE ON control_rooms, cameras, embedding_arrangements TO sightline_app;
GRANT SELECT, INSERT, DELETE ON control_room_boroughs TO sightline_app;
GRANT SELECT, INSERT ON events TO sightline_app;
