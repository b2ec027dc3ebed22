-- Shared control-room proposals (DESIGN §4.3, issue 15): a proposal names the rooms that would share one room,
-- the host that absorbs them (an existing room, or a new one described here), its appraisal parameters and
-- costs; participants record their positions, a MOPAC planner decides, and implementing it merges the rooms.

-- What the appraisal needs from each room, with the date a person last checked it; and, once a proposal has
-- merged a room into another, which one.
ALTER TABLE control_rooms
    ADD COLUMN staff_fte numeric(7, 2) CHECK (staff_fte BETWEEN 0 AND 10000),
    ADD COLUMN costs_reviewed_on date,
    ADD COLUMN merged_into uuid REFERENCES control_rooms (id),
    ADD CONSTRAINT control_rooms_merged_into CHECK (merged_into IS NULL OR (status = 'merged' AND merged_into <> id));

CREATE TABLE proposals (
    id                            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title                         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    summary                       text CHECK (length(summary) <= 4000),
    lead_org_id                   uuid NOT NULL REFERENCES organisations (id),
    status                        text NOT NULL DEFAULT 'draft'
                                  CHECK (status IN ('draft', 'consultation', 'submitted', 'approved', 'rejected', 'implementing',
                                                    'implemented', 'withdrawn')),
    -- The host: an existing room among the participants, or a new room described by name and location.
    host_room_id                  uuid REFERENCES control_rooms (id),
    new_room_name                 text CHECK (length(new_room_name) BETWEEN 1 AND 200),
    new_room_location             geography(Point, 4326),
    host_operator_positions       integer CHECK (host_operator_positions BETWEEN 0 AND 1000),
    embedding_plan                text NOT NULL DEFAULT 'carry_over' CHECK (embedding_plan IN ('carry_over', 'end')),
    appraisal_years               integer NOT NULL DEFAULT 10 CHECK (appraisal_years BETWEEN 1 AND 60),
    discount_rate                 numeric(6, 3) NOT NULL DEFAULT 3.5 CHECK (discount_rate BETWEEN 0 AND 20),
    long_term_discount_rate       numeric(6, 3) NOT NULL DEFAULT 3.0 CHECK (long_term_discount_rate BETWEEN 0 AND 20),
    -- The uplift per category of one-off cost, in percent, and where the figures come from.
    optimism_bias                 jsonb NOT NULL,
    fit_out_pence                 bigint NOT NULL DEFAULT 0 CHECK (fit_out_pence >= 0),
    network_pence                 bigint NOT NULL DEFAULT 0 CHECK (network_pence >= 0),
    migration_pence               bigint NOT NULL DEFAULT 0 CHECK (migration_pence >= 0),
    staff_transition_pence        bigint NOT NULL DEFAULT 0 CHECK (staff_transition_pence >= 0),
    other_pence                   bigint NOT NULL DEFAULT 0 CHECK (other_pence >= 0),
    proposed_annual_cost_pence    bigint NOT NULL CHECK (proposed_annual_cost_pence >= 0),
    -- A planner's submission without every participant's position, and why.
    submission_override_reason    text CHECK (length(submission_override_reason) BETWEEN 1 AND 2000),
    decision_outcome              text CHECK (decision_outcome IN ('approved', 'rejected')),
    decision_reference            text CHECK (length(decision_reference) BETWEEN 1 AND 100),
    decision_date                 date,
    decision_text                 text CHECK (length(decision_text) BETWEEN 1 AND 10000),
    decided_at                    timestamptz,
    implemented_at                timestamptz,
    -- The room implementing a proposal with a new host created.
    implemented_room_id           uuid REFERENCES control_rooms (id),
    created_by_key                uuid NOT NULL REFERENCES api_keys (id),
    created_at                    timestamptz NOT NULL,
    updated_at                    timestamptz NOT NULL,
    version                       integer NOT NULL DEFAULT 1,
    CHECK ((host_room_id IS NULL) <> (new_room_name IS NULL)),
    CHECK (new_room_name IS NULL OR (new_room_location IS NOT NULL AND host_operator_positions IS NOT NULL)),
    CHECK ((decision_outcome IS NULL) = (decision_reference IS NULL))
);

CREATE INDEX proposals_status ON proposals (status, created_at, id);
CREATE INDEX proposals_created ON proposals (created_at, id);

CREATE TABLE proposal_rooms (
    proposal_id     uuid NOT NULL REFERENCES proposals (id),
    control_room_id uuid NOT NULL REFERENCES control_rooms (id),
    -- The room's place in the proposal's list, as its authors gave it.
    position        smallint NOT NULL,
    PRIMARY KEY (proposal_id, control_room_id)
);

CREATE INDEX proposal_rooms_room ON proposal_rooms (control_room_id, proposal_id);

-- Every position recorded; an organisation's latest is its position, the earlier ones its history.
CREATE TABLE proposal_endorsements (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    proposal_id     uuid NOT NULL REFERENCES proposals (id),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    position        text NOT NULL CHECK (position IN ('support', 'object', 'abstain')),
    comment         text CHECK (length(comment) <= 4000),
    recorded_by_key uuid NOT NULL REFERENCES api_keys (id),
    recorded_at     timestamptz NOT NULL,
    serial          bigint GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX proposal_endorsements_proposal ON proposal_endorsements (proposal_id, organisation_id, serial);

CREATE TABLE proposal_milestones (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    proposal_id  uuid NOT NULL REFERENCES proposals (id),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    due_on       date NOT NULL,
    completed_on date,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      integer NOT NULL DEFAULT 1
);

CREATE INDEX proposal_milestones_proposal ON proposal_milestones (proposal_id, due_on, id);

GRANT SELECT, INSERT, UPDATE ON proposals, proposal_milestones TO sightline_app;
GRANT SELECT, INSERT, DELETE ON proposal_rooms TO sightline_app;
GRANT SELECT, INSERT ON proposal_endorsements TO sightline_app;
