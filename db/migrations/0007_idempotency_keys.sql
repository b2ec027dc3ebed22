-- Idempotency keys of creating POSTs (DESIGN §5): one row per API key and Idempotency-Key. The first request
-- claims the row ('running'); its response is stored when it finishes ('done') and replayed to every retry
-- with the same request for 24 hours.
--
-- Neither the Idempotency-Key nor the response is stored in clear: key_hash is SHA-256 of the header value,
-- and the response is sealed (AES-GCM) with a key derived from the caller's API key secret and the
-- Idempotency-Key, neither of which the database holds. A replayed POST /v1/api-keys therefore does not
-- leave the new key's secret readable here.
CREATE TABLE idempotency_keys (
    api_key_id     uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    key_hash       bytea NOT NULL CHECK (length(key_hash) = 32),
    operation      text NOT NULL,
    request_hash   bytea NOT NULL CHECK (length(request_hash) = 32),
    state          text NOT NULL CHECK (state IN ('running', 'done')),
    sealed_response bytea,
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- A 'running' claim older than its lease was abandoned (its server died); a retry may take it over.
    lease_until    timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    PRIMARY KEY (api_key_id, key_hash),
    CHECK ((state = 'done') = (sealed_response IS NOT NULL))
);

CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO sightline_app;
