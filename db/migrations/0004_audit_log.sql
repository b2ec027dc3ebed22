-- The audit log: append-only and tamper-evident. Each row's hash is SHA-256 over the previous row's hash and
-- the row's canonical form, so changing, removing or reordering any row breaks the chain from there on.
--
-- Appends go through audit_append(), which takes the next number and the previous hash from the one-row
-- audit_chain_head. That row is locked only while the function runs (callers append in a short transaction of
-- their own), so appends queue for microseconds rather than for the length of a business transaction.

CREATE TABLE audit_log (
    seq             bigint PRIMARY KEY,
    occurred_at     timestamptz NOT NULL,
    key_prefix      text,
    organisation_id uuid,
    action          text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    entity_type     text,
    entity_id       text,
    outcome         text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
    client_address  text,
    request_id      text,
    detail          jsonb NOT NULL DEFAULT '{}',
    prev_hash       bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea NOT NULL CHECK (length(hash) = 32)
);

CREATE INDEX audit_log_organisation ON audit_log (organisation_id, seq);

CREATE TABLE audit_chain_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq      bigint NOT NULL,
    hash     bytea NOT NULL
);
INSERT INTO audit_chain_head VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- The canonical form of a row: a JSON array of its fields, times in UTC to the microsecond. jsonb prints its
-- keys in one fixed order, so `detail` has one text form too.
CREATE FUNCTION audit_canonical(
    seq bigint, occurred_at timestamptz, key_prefix text, organisation_id uuid, action text, entity_type text,
    entity_id text, outcome text, client_address text, request_id text, detail jsonb
) RETURNS bytea
    LANGUAGE sql IMMUTABLE
    RETURN convert_to(json_build_array(
        seq, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), key_prefix, organisation_id,
        action, entity_type, entity_id, outcome, client_address, request_id, detail::text
    )::text, 'UTF8');

CREATE FUNCTION audit_append(
    p_key_prefix text, p_organisation_id uuid, p_action text, p_entity_type text, p_entity_id text, p_outcome text,
    p_client_address text, p_request_id text, p_detail jsonb
) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    head record;
    now_utc timestamptz := clock_timestamp();
    row_hash bytea;
BEGIN
    UPDATE audit_chain_head SET seq = seq + 1 RETURNING seq, hash INTO head;
    row_hash := sha256(head.hash || audit_canonical(head.seq, now_utc, p_key_prefix, p_organisation_id, p_action,
        p_entity_type, p_entity_id, p_outcome, p_client_address, p_request_id, coalesce(p_detail, '{}')));
    INSERT INTO audit_log VALUES (head.seq, now_utc, p_key_prefix, p_organisation_id, p_action, p_entity_type, p_entity_id,
        p_outcome, p_client_address, p_request_id, coalesce(p_detail, '{}'), head.hash, row_hash);
    UPDATE audit_chain_head SET hash = row_hash;
    RETURN head.seq;
END
$$;

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Defence in depth for deployments that connect as a role other than the owner: nobody but the owner may
-- change the log or the head directly.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_chain_head FROM PUBLIC;
