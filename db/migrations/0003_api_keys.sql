-- API keys: each belongs to one organisation and has one role. The secret is shown once and stored only as
-- its SHA-256; the prefix identifies the key in logs, listings and revocation.
CREATE TABLE api_keys (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role            text NOT NULL CHECK (role IN ('admin', 'partner_admin', 'operator', 'requester',
                                                  'embedded_officer', 'planner', 'analyst', 'auditor')),
    covert_access   boolean NOT NULL DEFAULT false,
    prefix          text NOT NULL CHECK (prefix ~ '^[a-z0-9]{12}$'),
    secret_hash     bytea NOT NULL CHECK (length(secret_hash) = 32),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      uuid REFERENCES api_keys (id),
    expires_at      timestamptz,
    revoked_at      timestamptz,
    last_used_at    timestamptz,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);

CREATE INDEX api_keys_organisation ON api_keys (organisation_id, created_at, id);
