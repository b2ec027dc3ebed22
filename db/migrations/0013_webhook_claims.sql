-- What the bench found in the webhook queue (issue 6), and a promise made to partners.

-- A claim walks each endpoint's due deliveries, oldest first, and stops after as many as the endpoint has room
-- for: its cost no longer grows with the backlog. (Without this index a claim sorted every due delivery: 64 ms
-- with 20,000 queued, against 2 ms.)
CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries (endpoint_id, next_attempt_at, id) WHERE status = 'pending';
-- Deliveries in flight, counted per endpoint at every claim and scanned by the lease reaper.
DROP INDEX webhook_deliveries_leased;
CREATE INDEX webhook_deliveries_in_flight ON webhook_deliveries (endpoint_id, lease_until) WHERE status = 'delivering';

-- A webhook body is {"type", "timestamp", "data"} with the event's payload as data, and partners are promised
-- bodies under 20 kB (docs/webhooks.md). The promise is kept where events are written: a payload over 16 KiB,
-- or a type over 64 bytes, cannot enter the outbox, so no delivery can be too large to send.
ALTER TABLE events
    ADD CONSTRAINT events_payload_size CHECK (octet_length(payload::text) <= 16384),
    ADD CONSTRAINT events_type_size CHECK (octet_length(type) <= 64);
