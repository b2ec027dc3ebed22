-- Nightly partner reports (issue 16, DESIGN §4.4): each organisation's report of a London day, the pan-London
-- one, the runs of the nightly job, and the task times the reports measure.

-- When a task was exported and when it settled (collected, rejected, no footage, cancelled): the turnaround and
-- outcomes of a day are read from these, not from `updated_at`, which every later change moves.
ALTER TABLE evidence_tasks
    ADD COLUMN exported_at timestamptz,
    ADD COLUMN settled_at  timestamptz;

-- Tasks before this change: an exported task's first item marks its export; a settled task's last change its
-- settling.
UPDATE evidence_tasks t SET exported_at = coalesce((SELECT min(i.exported_at) FROM evidence_items i WHERE i.task_id = t.id), t.updated_at)
WHERE status IN ('exported', 'collected');
UPDATE evidence_tasks SET settled_at = updated_at WHERE status IN ('collected', 'rejected', 'no_footage', 'cancelled');

-- The organisations the migrations install (the 33 authorities, the three forces, TfL, MOPAC, the platform
-- operator) existed before Sightline did: they have a report of any day, whenever they were installed. Others have
-- reports of the days from the one they were added on.
ALTER TABLE organisations ADD COLUMN reference boolean NOT NULL DEFAULT false;
UPDATE organisations SET reference = true
WHERE id IN (SELECT organisation_id FROM boroughs)
   OR id IN (SELECT sightline_reference_id(k) FROM unnest(ARRAY['MPS', 'CoLP', 'BTP', 'TfL', 'MOPAC', 'Sightline']) AS k);

-- A day's report reads the tasks that arrived, were acknowledged, exported or settled that day.
CREATE INDEX evidence_tasks_created ON evidence_tasks (created_at);
CREATE INDEX evidence_tasks_acknowledged ON evidence_tasks (acknowledged_at) WHERE acknowledged_at IS NOT NULL;
CREATE INDEX evidence_tasks_exported ON evidence_tasks (exported_at) WHERE exported_at IS NOT NULL;
CREATE INDEX evidence_tasks_settled ON evidence_tasks (settled_at) WHERE settled_at IS NOT NULL;
CREATE INDEX evidence_requests_created ON evidence_requests (created_at);
CREATE INDEX evidence_items_collected ON evidence_items (collected_at) WHERE collected_at IS NOT NULL;
-- Footage overwritten that day, and holds that end soon.
CREATE INDEX evidence_task_cameras_overwrite ON evidence_task_cameras (overwrite_at);
CREATE INDEX evidence_tasks_hold_until ON evidence_tasks (hold_until) WHERE hold_until IS NOT NULL;

-- One report per organisation, kind and London date; the pan-London report (`london`) belongs to no organisation.
-- `content` is the report's JSON document; CSV and HTML are rendered from it when read.
CREATE TABLE reports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid REFERENCES organisations (id),
    kind            text NOT NULL CHECK (kind IN ('holder', 'police', 'london')),
    report_date     date NOT NULL,
    content         jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    CHECK ((kind = 'london') = (organisation_id IS NULL)),
    UNIQUE NULLS NOT DISTINCT (organisation_id, kind, report_date)
);

CREATE INDEX reports_by_date ON reports (report_date DESC, id);

-- Each period a job has done, once: the nightly reports record the London date they built.
CREATE TABLE job_runs (
    name        text NOT NULL,
    period      text NOT NULL,
    finished_at timestamptz NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (name, period)
);

GRANT SELECT, INSERT ON reports, job_runs TO sightline_app;
