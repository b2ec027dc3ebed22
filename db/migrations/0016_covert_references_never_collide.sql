-- Neither confirm nor deny (issue 14): an owner's camera references were unique across all its cameras, so a
-- key without covert access that chose the reference of a covert camera was refused, learning that the covert
-- camera exists. References are now unique among an owner's open cameras and, separately, among its covert
-- ones: a covert reference never collides visibly.
DROP INDEX cameras_owner_external_ref;
CREATE UNIQUE INDEX cameras_owner_covert_external_ref ON cameras (owner_org_id, covert, external_ref) WHERE external_ref IS NOT NULL;
