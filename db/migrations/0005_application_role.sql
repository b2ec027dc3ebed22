-- The server's own database role. Migrations run as the schema's owner; `sightline serve` should connect as
-- a login role that is a member of sightline_app and nothing more, so that what the application may not do
-- (change the audit log, rewrite reference data) is refused by grants as well as by triggers.
--
-- Roles belong to the cluster, not the database: sightline_app is created once and shared by every Sightline
-- database in a cluster. Creating it needs CREATEROLE; where the migrating role lacks it, an administrator
-- creates the role first and this step only grants. Every later migration grants what its tables need.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sightline_app') THEN
        CREATE ROLE sightline_app NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO sightline_app;
GRANT SELECT ON schema_migrations, organisations, boroughs TO sightline_app;
GRANT SELECT, INSERT, UPDATE ON api_keys TO sightline_app;
-- The log is read by the application (listing, verification) and written only through the functions below.
GRANT SELECT ON audit_log TO sightline_app;
-- Functions are executable by PUBLIC unless revoked; the old direct append is replaced in 0006.
REVOKE EXECUTE ON FUNCTION audit_append(text, uuid, text, text, text, text, text, text, jsonb) FROM PUBLIC;
