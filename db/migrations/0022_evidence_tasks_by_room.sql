-- A room's tasks (issue 17): value for money reads each room's tasks of a year, and a proposal's implementation
-- moves the tasks of the rooms it merges. Until now tasks were found by request, holder or requester only.
CREATE INDEX evidence_tasks_room ON evidence_tasks (control_room_id) WHERE control_room_id IS NOT NULL;
