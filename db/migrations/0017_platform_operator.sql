-- The platform's operating organisation (issue 14). An `admin` key acts on every organisation's objects, so it
-- must not belong to one of them: the demo's admin keys belonged to Westminster. Admin keys now belong to the
-- one organisation of kind `platform`, the team that runs Sightline; a new or changed admin key of any other
-- organisation is refused. (Admin keys made before this change keep working until revoked.)
ALTER TABLE organisations DROP CONSTRAINT organisations_kind_check;
ALTER TABLE organisations ADD CONSTRAINT organisations_kind_check
    CHECK (kind IN ('borough', 'police', 'transport', 'mopac', 'business', 'other', 'platform'));
CREATE UNIQUE INDEX organisations_one_platform ON organisations (kind) WHERE kind = 'platform';

INSERT INTO organisations (id, kind, name) VALUES (sightline_reference_id('Sightline'), 'platform', 'Sightline platform operator');

CREATE FUNCTION api_keys_admin_is_platform() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.role = 'admin' AND NOT EXISTS (SELECT 1 FROM organisations WHERE id = NEW.organisation_id AND kind = 'platform') THEN
        RAISE EXCEPTION 'an admin key belongs to the platform operator' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'api_keys_admin_is_platform';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER api_keys_admin_is_platform BEFORE INSERT OR UPDATE OF role, organisation_id ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_admin_is_platform();
