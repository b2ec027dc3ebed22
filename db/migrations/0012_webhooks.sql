-- Webhook delivery (DESIGN §7): partners' endpoints, one delivery per event and endpoint, and a row per attempt.
--
-- The business transaction only writes `events`. The dispatcher fans each event out into deliveries later
-- (marking it with `fanned_out_at`), claims due deliveries with FOR UPDATE SKIP LOCKED and a lease, and records
-- every attempt. Nothing here is held in memory: any number of dispatchers may run against one database.

ALTER TABLE events ADD COLUMN fanned_out_at timestamptz;
-- Events already written before webhooks existed have no endpoint to go to.
UPDATE events SET fanned_out_at = created_at;
CREATE INDEX events_to_fan_out ON events (position) WHERE fanned_out_at IS NULL;

CREATE TABLE webhook_endpoints (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id          uuid NOT NULL REFERENCES organisations (id),
    url                      text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    -- Empty: every type.
    event_types              text[] NOT NULL DEFAULT '{}',
    description              text CHECK (length(description) <= 500),
    enabled                  boolean NOT NULL DEFAULT true,
    -- Why it is disabled: 'partner' (by its organisation), 'gone' (it answered 410), 'failing' (5 days of failure).
    disabled_reason          text CHECK (disabled_reason IN ('partner', 'gone', 'failing')),
    disabled_at              timestamptz,
    -- Receives events about covert cameras; only a key with covert access may set it.
    covert_access            boolean NOT NULL DEFAULT false,
    -- The signing secrets. The secret must be kept to sign with, so it is stored as given (the database is
    -- the trust boundary); it is shown to the partner once. During a rotation the previous one also signs.
    secret                   text NOT NULL,
    previous_secret          text,
    previous_secret_until    timestamptz,
    -- Mutual TLS and a private CA, PEM.
    tls_client_certificate   text,
    tls_client_key           text,
    tls_ca_certificate       text,
    -- The circuit breaker: consecutive failed attempts, since when it has failed, and until when it is open
    -- (no delivery is claimed; after that one probe at a time until a success closes it).
    consecutive_failures     integer NOT NULL DEFAULT 0,
    failing_since            timestamptz,
    circuit_open_until       timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    version                  integer NOT NULL DEFAULT 1
);

CREATE INDEX webhook_endpoints_organisation ON webhook_endpoints (organisation_id, created_at, id);

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subject          text NOT NULL,
    sequence         integer NOT NULL,
    -- pending: waiting for next_attempt_at; delivering: leased to a dispatcher until lease_until;
    -- succeeded; failed: the retry schedule ran out (or the payload cannot be sent).
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (endpoint_id, event_id)
);

-- What the dispatcher claims, oldest due first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- Per endpoint and subject, in sequence: the head of each subject's line goes first.
CREATE INDEX webhook_deliveries_line ON webhook_deliveries (endpoint_id, subject, sequence) WHERE status IN ('pending', 'delivering');
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until) WHERE status = 'delivering';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id);

CREATE TABLE webhook_attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt          integer NOT NULL,
    started_at       timestamptz NOT NULL,
    status_code      integer,
    -- success, http_status, timeout, connect, dns, tls, refused_address, gone, lease_expired, other
    error_class      text,
    error_message    text,
    dns_ms           double precision,
    connect_ms       double precision,
    tls_ms           double precision,
    first_byte_ms    double precision,
    total_ms         double precision,
    UNIQUE (delivery_id, attempt)
);

GRANT UPDATE (fanned_out_at) ON events TO sightline_app;
GRANT DELETE ON events TO sightline_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints, webhook_deliveries TO sightline_app;
GRANT SELECT, INSERT ON webhook_attempts TO sightline_app;
