-- Audit rows are recorded in two steps, so that recording never waits on the chain:
--
-- 1. audit_record() inserts the row into audit_pending, inside the transaction of the change it describes, so
--    the change and its audit row commit together or not at all. Inserts take no shared lock.
-- 2. audit_chain() moves pending rows into audit_log in batches: it locks the chain head once per batch,
--    links each row to the one before (as 0004 describes) and deletes what it moved, in one transaction and
--    one WAL flush. The server runs it continuously; readers of the log run it first, so they see every
--    committed row.
--
-- Both functions run with the owner's rights (SECURITY DEFINER): the application role may call them but may
-- neither write audit_log nor touch audit_pending directly.

CREATE TABLE audit_pending (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at     timestamptz NOT NULL,
    key_prefix      text,
    organisation_id uuid,
    action          text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
    entity_type     text,
    entity_id       text,
    outcome         text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
    client_address  text,
    request_id      text,
    detail          jsonb NOT NULL DEFAULT '{}'
);

CREATE FUNCTION audit_record(
    p_key_prefix text, p_organisation_id uuid, p_action text, p_entity_type text, p_entity_id text, p_outcome text,
    p_client_address text, p_request_id text, p_detail jsonb
) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
BEGIN ATOMIC
    INSERT INTO audit_pending (occurred_at, key_prefix, organisation_id, action, entity_type, entity_id, outcome,
                               client_address, request_id, detail)
    VALUES (clock_timestamp(), p_key_prefix, p_organisation_id, p_action, p_entity_type, p_entity_id, p_outcome,
            p_client_address, p_request_id, coalesce(p_detail, '{}'));
END;

-- Chains up to p_limit pending rows, oldest first, and returns how many it chained.
CREATE FUNCTION audit_chain(p_limit integer DEFAULT 1000) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
    pending audit_pending;
    row_hash bytea;
    moved bigint[] := '{}';
BEGIN
    -- One chainer at a time; in READ COMMITTED the statements below see what the previous holder committed.
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head FOR UPDATE;
    FOR pending IN SELECT * FROM audit_pending ORDER BY id LIMIT p_limit LOOP
        head_seq := head_seq + 1;
        row_hash := sha256(head_hash || audit_canonical(head_seq, pending.occurred_at, pending.key_prefix,
            pending.organisation_id, pending.action, pending.entity_type, pending.entity_id, pending.outcome,
            pending.client_address, pending.request_id, pending.detail));
        INSERT INTO audit_log VALUES (head_seq, pending.occurred_at, pending.key_prefix, pending.organisation_id,
            pending.action, pending.entity_type, pending.entity_id, pending.outcome, pending.client_address,
            pending.request_id, pending.detail, head_hash, row_hash);
        head_hash := row_hash;
        moved := moved || pending.id;
    END LOOP;
    IF cardinality(moved) > 0 THEN
        DELETE FROM audit_pending WHERE id = ANY (moved);
        UPDATE audit_chain_head SET seq = head_seq, hash = head_hash;
    END IF;
    RETURN cardinality(moved);
END
$$;

-- Rows written by the append of 0004 are already chained; new rows go through audit_record.
DROP FUNCTION audit_append(text, uuid, text, text, text, text, text, text, jsonb);

REVOKE ALL ON audit_pending FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION audit_record(text, uuid, text, text, text, text, text, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION audit_chain(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_record(text, uuid, text, text, text, text, text, text, jsonb) TO sightline_app;
GRANT EXECUTE ON FUNCTION audit_chain(integer) TO sightline_app;
